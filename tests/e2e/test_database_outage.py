"""PostgreSQL stops mid-run: the API says so clearly and at once, and nothing is lost.

The outage test brings its own PostgreSQL on a spare port (as the Redis tests bring their
own redis-server) and stops and starts it; the machine's PostgreSQL is never touched. The
phone app's side, retrying a send the server could not take, runs in Chromium.
"""

import asyncio
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
from django.conf import settings
from playwright.sync_api import Browser, Route, expect
from websockets.exceptions import ConnectionClosed

from messaging.models import Bleep
from tests.e2e.browser import PHONE, WAIT_MS, hospital, launch_chromium, sign_in
from tests.e2e.clients import FRAME_TIMEOUT_SECONDS, Phone, open_socket
from tests.e2e.conftest import ROOT, Server, free_port, note, running_server

pytestmark = [pytest.mark.e2e]

POSTGRES_BIN = Path("/usr/lib/postgresql/15/bin")
POSTGRES_START_TIMEOUT_SECONDS = 15
POSTGRES_STOP_TIMEOUT_SECONDS = 10
# What the issue asks of an outage, bounded generously for a shared machine: the API
# answers within about 2 s and /healthz within 1 s (its own bound is 0.8 s).
API_ANSWER_BOUND_SECONDS = 3.0
HEALTH_ANSWER_BOUND_SECONDS = 1.5
# After PostgreSQL is back: the pool tries again at most 2 s apart (bleep/settings.py).
RECOVERY_BOUND_SECONDS = 15
# PostgreSQL refuses to run as root: as root, its programs run as the `postgres` user.
AS_POSTGRES: dict[str, Any] = (
    {"user": "postgres", "group": "postgres", "extra_groups": []} if os.geteuid() == 0 else {}
)


def postgres_missing() -> str | None:
    """Return why this test cannot run its own PostgreSQL here, or None when it can."""
    if settings.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":
        return "stops its own PostgreSQL: runs in the PostgreSQL + Redis pass only"
    if not settings.REDIS_URL:
        return "runs the server as in production: needs REDIS_URL (the PostgreSQL + Redis pass)"
    if not (POSTGRES_BIN / "postgres").exists():
        return f"PostgreSQL's server programs are missing from {POSTGRES_BIN}"
    return None


@dataclass
class PrivatePostgres:
    """A PostgreSQL server of one test's own on a spare port, which it may stop and start.

    Its files are in a directory of its own under /tmp, which the `postgres` user can reach
    when the tests run as root (pytest's tmp_path is private to root).
    """

    port: int
    directory: Path
    log: Path
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/bleep"

    @property
    def data(self) -> Path:
        return self.directory / "data"

    def create(self) -> None:
        """Make a new cluster (trust authentication, no fsync) and its `bleep` database."""
        self._run(
            [str(POSTGRES_BIN / "initdb"), "-D", str(self.data), "-A", "trust"]
            + ["-U", "postgres", "-E", "UTF8", "--no-sync", "--no-instructions"]
        )
        self.start()
        with psycopg.connect(self._conninfo("postgres"), autocommit=True) as connection:
            connection.execute("CREATE DATABASE bleep")

    def start(self) -> None:
        """Start the server and return once it accepts connections."""
        note(self.log, f"starting PostgreSQL on port {self.port}")
        command = [str(POSTGRES_BIN / "postgres"), "-D", str(self.data), "-p", str(self.port)]
        command += ["-k", str(self.directory), "-c", "listen_addresses=127.0.0.1"]
        # Speed, not durability: this cluster lives for one test.
        command += ["-c", "fsync=off", "-c", "synchronous_commit=off"]
        command += ["-c", "full_page_writes=off"]
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(
                command, stdout=out, stderr=subprocess.STDOUT, **AS_POSTGRES
            )
        deadline = time.monotonic() + POSTGRES_START_TIMEOUT_SECONDS
        while not self._accepts():
            if self.process.poll() is not None:
                raise RuntimeError(f"postgres exited with {self.process.returncode}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"postgres silent after {POSTGRES_START_TIMEOUT_SECONDS} s")
            time.sleep(0.1)

    def stop(self) -> None:
        """Stop the server at once (fast shutdown: open sessions are cut) and wait for it."""
        if self.process is None:
            return
        note(self.log, f"stopping PostgreSQL on port {self.port}")
        self.process.send_signal(signal.SIGINT)
        try:
            self.process.wait(timeout=POSTGRES_STOP_TIMEOUT_SECONDS)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.process = None

    def _accepts(self) -> bool:
        try:
            psycopg.connect(self._conninfo("postgres"), connect_timeout=2).close()
        except psycopg.OperationalError:
            return False
        return True

    def _conninfo(self, database: str) -> str:
        return f"host=127.0.0.1 port={self.port} user=postgres dbname={database}"

    def _run(self, command: list[str]) -> None:
        with self.log.open("ab") as out:
            subprocess.run(command, stdout=out, stderr=subprocess.STDOUT, check=True, **AS_POSTGRES)


@dataclass
class Ward:
    """The private database's nurse and on-call doctor, each signed in on one device."""

    nurse_token: str
    doctor_token: str


@pytest.fixture
def private_postgres(server_log: Path) -> Iterator[PrivatePostgres]:
    """A PostgreSQL this test owns, which it may stop and start."""
    missing = postgres_missing()
    if missing is not None:
        pytest.skip(missing)
    directory = Path(tempfile.mkdtemp(prefix="bleep-postgres-"))
    if os.geteuid() == 0:
        shutil.chown(directory, "postgres", "postgres")
    postgres = PrivatePostgres(port=free_port(), directory=directory, log=server_log)
    try:
        postgres.create()
        yield postgres
    finally:
        postgres.stop()
        shutil.rmtree(directory, ignore_errors=True)


# Run against the private database: Bleep's tables, then a registrar on bleep 2345 and a
# nurse, each with a device token (signed in with the quick hasher: nobody logs in later).
MIGRATE_AND_STAFF = """
import json
import django
django.setup()
from django.conf import settings
from django.core.management import call_command
settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
call_command("migrate", verbosity=0)
from rota.models import Person
from tests import factories
role = factories.make_role(bleep_number="2345")
nurse = factories.make_person("amina.okafor", job=Person.Job.NURSE)
doctor = factories.make_person("omar.haddad")
factories.on_call_now(role, doctor)
tokens = [factories.make_device(person)[1] for person in (nurse, doctor)]
print(json.dumps(tokens))
"""


def migrate_and_staff(postgres: PrivatePostgres) -> Ward:
    """Create Bleep's tables and the ward in one process (Django starts once: seconds)."""
    env = {**os.environ, "DATABASE_URL": postgres.url, "DEBUG": "1"}
    env.update(BLEEP_DATA_DIR=str(settings.DATA_DIR), DJANGO_SETTINGS_MODULE="bleep.settings")
    note(postgres.log, "migrating and adding the ward")
    done = subprocess.run(
        [sys.executable, "-c", MIGRATE_AND_STAFF],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    with postgres.log.open("a") as out:
        out.write(done.stdout + done.stderr)
    done.check_returncode()
    nurse_token, doctor_token = json.loads(done.stdout.strip().splitlines()[-1])
    return Ward(nurse_token=nurse_token, doctor_token=doctor_token)


@pytest.fixture
def ward_on_private_postgres(private_postgres: PrivatePostgres) -> Ward:
    return migrate_and_staff(private_postgres)


@pytest.fixture
def server_on_private_postgres(
    server_log: Path, private_postgres: PrivatePostgres, ward_on_private_postgres: Ward
) -> Iterator[Server]:
    """Web and worker as in production (DEBUG off) on that PostgreSQL; Redis under a prefix."""
    production = {
        "DATABASE_URL": private_postgres.url,
        "DEBUG": "0",
        "SECRET_KEY": "outage-test-only-" + "x" * 40,
        "VAPID_PRIVATE_KEY": settings.VAPID_PRIVATE_KEY,
        "VAPID_SUBJECT": settings.VAPID_SUBJECT,
        # The machine's Redis, under a prefix no other test or process uses.
        "CHANNEL_LAYER_PREFIX": f"outage-{private_postgres.port}",
        # At most three connections for the outage to cut, so the test's six calls are
        # sure to meet the pool's wait for a new one too, not only its dead ones.
        "DB_POOL_SIZE": "3",
        # Plain HTTP on the loopback, as a deployment on a private network says it is.
        "HTTPS_ONLY": "0",
    }
    with running_server(log=server_log, extra_env=production) as server:
        yield server


async def timed(call: Any) -> tuple[httpx.Response, float]:
    started = time.monotonic()
    response = await call
    return response, time.monotonic() - started


def assert_database_unavailable(response: httpx.Response, took: float) -> None:
    assert response.status_code == 503, response.text
    assert response.headers["Content-Type"] == "application/json"
    assert response.json()["code"] == "database_unavailable"
    assert int(response.headers["Retry-After"]) > 0
    assert took < API_ANSWER_BOUND_SECONDS, f"answered after {took:.1f} s"


async def send_until_sent(http: httpx.AsyncClient, body: dict[str, Any]) -> httpx.Response:
    """Send `body`, key and all, again and again as the app does, until the server takes it."""
    deadline = time.monotonic() + RECOVERY_BOUND_SECONDS
    while (response := await http.post("/api/bleeps", json=body)).status_code == 503:
        assert time.monotonic() < deadline, "still 503 long after PostgreSQL came back"
        await asyncio.sleep(0.2)
    assert response.status_code == 201, response.text
    return response


async def assert_sign_in_is_told_to_retry(server: Server, token: str) -> None:
    async with open_socket(server) as socket:
        await socket.send(json.dumps({"type": "auth", "token": token, "last_seq": 0}))
        with pytest.raises(ConnectionClosed) as closed:
            await asyncio.wait_for(socket.recv(), FRAME_TIMEOUT_SECONDS)
    assert closed.value.rcvd is not None
    assert closed.value.rcvd.code == 4503  # try again later, not 4408 "you sent nothing"


@pytest.mark.hazard("HZ-16")
async def test_with_postgresql_stopped_the_api_answers_503_at_once_and_afterwards_nothing_is_lost(
    private_postgres: PrivatePostgres,
    ward_on_private_postgres: Ward,
    server_on_private_postgres: Server,
) -> None:
    server, ward = server_on_private_postgres, ward_on_private_postgres
    nurse = {"Authorization": f"Bearer {ward.nurse_token}"}
    bleep = {"bleep_number": "2345", "priority": "urgent", "message": "Bed 4 NEWS 7"}
    bleep["idempotency_key"] = "one-send-retried"
    async with (
        httpx.AsyncClient(base_url=server.url, headers=nurse, timeout=10) as http,
        Phone(server, ward.doctor_token) as doctor,
    ):
        await doctor.connect()

        await asyncio.to_thread(private_postgres.stop)
        # The first calls meet the pool's cut connections, the later ones its empty wait.
        for _ in range(3):
            assert_database_unavailable(*await timed(http.post("/api/bleeps", json=bleep)))
            assert_database_unavailable(*await timed(http.get("/api/bleeps/sent")))
        health, took = await timed(http.get("/healthz"))
        assert (health.status_code, "database" in health.json()["down"]) == (503, True)
        assert took < HEALTH_ANSWER_BOUND_SECONDS, f"/healthz answered after {took:.1f} s"
        await assert_sign_in_is_told_to_retry(server, ward.nurse_token)

        await asyncio.to_thread(private_postgres.start)
        sent = await send_until_sent(http, bleep)
        again = await http.post("/api/bleeps", json=bleep)
        assert (again.status_code, again.json()["id"]) == (200, sent.json()["id"])
        # The doctor's socket stayed open through it all and gets the bleep, once.
        assert (await doctor.next_event())["bleep"]["id"] == sent.json()["id"]
        assert await doctor.settle() == []
        mine = (await http.get("/api/bleeps/sent")).json()["results"]
    assert [b["id"] for b in mine] == [sent.json()["id"]]


@pytest.fixture
def chromium() -> Iterator[Browser]:
    """One headless Chromium for one test, so its event loop never meets the async test's.

    Asked for before the server (and so the test database), it closes after them: Django
    keeps a connection opened while playwright's loop runs apart from the thread's own, and
    closes it at the database's teardown only while that loop still runs.
    """
    yield from launch_chromium()


@pytest.mark.hazard("HZ-16")
def test_a_send_answered_503_says_not_sent_yet_retrying_then_goes_once_with_its_one_key(
    chromium: Browser, bleep_server: Server
) -> None:
    people = hospital()
    # The app's service worker stays out of the way: page.route cannot see what it fetches.
    context = chromium.new_context(**PHONE, service_workers="block")  # type: ignore[arg-type]
    context.set_default_timeout(WAIT_MS)
    context.clock.install()  # the page's timers, to jump past a retry that must not come
    nurse = sign_in(context, bleep_server, "amina.okafor")
    # The server is down for three sends, then the real one answers.
    retry_after = ["30", "1", "1"]
    keys: list[str] = []

    def server_down(route: Route) -> None:
        if route.request.method != "POST":
            route.continue_()
            return
        keys.append(json.loads(route.request.post_data or "{}")["idempotency_key"])
        if len(keys) > len(retry_after):
            route.continue_()
            return
        route.fulfill(
            status=503,
            headers={"Retry-After": retry_after[len(keys) - 1]},
            content_type="application/json",
            body=json.dumps({"code": "database_unavailable", "detail": "Try again shortly."}),
        )

    nurse.route("**/api/bleeps", server_down)
    nurse.get_by_label("Or type a bleep number").fill("2345")
    nurse.get_by_label("Message").fill("Bed 4 NEWS 7, please review")
    send = nurse.get_by_role("button", name="Send bleep")
    retrying = nurse.get_by_role("status").filter(has_text="Not sent yet — retrying")

    send.click()
    expect(retrying).to_be_visible()
    nurse.get_by_role("button", name="Stop sending").click()
    expect(nurse.locator("#send-status")).to_contain_text("Not sent: you stopped it")
    nurse.clock.fast_forward(31_000)  # past the retry the server asked for: none comes
    nurse.wait_for_timeout(500)
    assert len(keys) == 1

    send.click()
    expect(retrying).to_be_visible()
    nurse.wait_for_url(re.compile(r"#/bleeps/\d+$"))
    expect(nurse.locator("#status-line")).to_contain_text("waiting for")
    assert len(keys) == 4 and len(set(keys)) == 1, keys
    bleeps = Bleep.objects.filter(sender=people["nurse"])
    assert [b.idempotency_key for b in bleeps] == keys[:1]
