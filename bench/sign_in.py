"""What the sign-in throttle (django-axes) costs each sign-in, beside sign-in without it.

Each sign-in is a whole `POST /api/auth/login` through Django's middleware and DRF, in this
process. Sign-ins with the throttle and without it (axes' backend and middleware removed,
AXES_ENABLED off) alternate one by one, so a drift in the machine's speed falls on both
alike; the overhead is the median of the paired differences. The production hasher costs
~0.3 s a sign-in by design and varies by tens of ms on a shared machine, which buried the
throttle's few ms (a first run gave a negative overhead), so the pairs run with a cheap
hasher; a few sign-ins as deployed give the whole cost for scale. Failed sign-ins are timed
too, since that is where axes writes: each attempt comes from its own address, so none is
refused by a lockout before its password is checked.
"""

import statistics
import time
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from typing import Any

from django.conf import settings
from django.test import Client, override_settings

from bench.stats import summary_ms
from rota.models import Person

PASSWORD = "bench sign-in password"
AXES_BACKEND = "axes.backends.AxesStandaloneBackend"
AXES_MIDDLEWARE = "axes.middleware.AxesMiddleware"
CHEAP_HASHER = "django.contrib.auth.hashers.MD5PasswordHasher"
LOGIN = "/api/auth/login"
# A few sign-ins of each kind before timing: imports, connections and caches warm up.
WARM_UP = 5
DEPLOYED_SIGN_INS = 5

Context = Callable[[], AbstractContextManager[Any]]


def measure(*, sign_ins: int) -> dict[str, Any]:
    """Time `sign_ins` good and as many failed sign-ins with and without axes, and a few
    as deployed (axes and the production hasher)."""
    deployed = Person.objects.create_user(username="bench.deployed", password=PASSWORD)
    as_deployed = [
        _time(Client(SERVER_NAME="localhost"), deployed.username, PASSWORD, 201, number)
        for number in range(DEPLOYED_SIGN_INS)
    ]
    with override_settings(PASSWORD_HASHERS=[CHEAP_HASHER]):
        person = Person.objects.create_user(username="bench.sign.in", password=PASSWORD)
        good, bad = _pairs(person.username, sign_ins)
    return {
        "sign_ins": sign_ins,
        "deployed_p50_ms": summary_ms(as_deployed)["p50_ms"],
        "good": _compare(good),
        "failed": _compare(bad),
    }


def _pairs(username: str, sign_ins: int) -> tuple[dict[str, list[float]], dict[str, list[float]]]:
    with_axes, without_axes = _clients()
    good: dict[str, list[float]] = {"axes": [], "floor": []}
    bad: dict[str, list[float]] = {"axes": [], "floor": []}
    for number in range(WARM_UP + sign_ins):
        for name, (client, context) in (("axes", with_axes), ("floor", without_axes)):
            with context():
                took_good = _time(client, username, PASSWORD, 201, number)
                took_bad = _time(client, username, "wrong " + PASSWORD, 401, number)
            if number >= WARM_UP:
                good[name].append(took_good)
                bad[name].append(took_bad)
    return good, bad


def _clients() -> tuple[tuple[Client, Context], tuple[Client, Context]]:
    """A client as deployed, and one (built under the override) with axes taken out."""
    without = override_settings(
        AXES_ENABLED=False,
        AUTHENTICATION_BACKENDS=[b for b in settings.AUTHENTICATION_BACKENDS if b != AXES_BACKEND],
        MIDDLEWARE=[m for m in settings.MIDDLEWARE if m != AXES_MIDDLEWARE],
    )
    with without:
        # Django's test client builds its middleware chain once, and keeps it: build it here.
        bare = Client(SERVER_NAME="localhost")
        bare.handler.load_middleware()
    deployed = Client(SERVER_NAME="localhost")
    return (deployed, nullcontext), (bare, lambda: without)


def _time(client: Client, username: str, password: str, expected: int, number: int) -> float:
    # Each attempt from its own address, so axes counts none toward another's lockout.
    address = f"10.{number // 65_536 % 256}.{number // 256 % 256}.{number % 256}"
    body = {"username": username, "password": password, "device_name": "bench"}
    began = time.perf_counter()
    answer = client.post(LOGIN, body, content_type="application/json", REMOTE_ADDR=address)
    took = time.perf_counter() - began
    assert answer.status_code == expected, (answer.status_code, answer.content[:200])
    return took


def _compare(durations: dict[str, list[float]]) -> dict[str, float]:
    axes, floor = durations["axes"], durations["floor"]
    overhead = statistics.median(a - f for a, f in zip(axes, floor, strict=True))
    return {
        **summary_ms(axes),
        **summary_ms(floor, prefix="floor_"),
        "overhead_ms": round(overhead * 1000, 2),
    }
