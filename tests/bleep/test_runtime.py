"""Each framework override (bleep/runtime/README.md) pinned to the upstream code it replaces
or relies on: when an upgrade changes that code, a test here fails, saying what to re-check.

A pin is a hash of the upstream function's syntax tree, without its docstrings, comments or
layout, so a reworded comment passes and a changed line fails. To re-pin after checking an
override against the new code: update the README's versions and note, then the hash here.
"""

import ast
import gc
import hashlib
import inspect
import platform
import sys
import textwrap
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from importlib.metadata import version
from pathlib import Path
from pkgutil import resolve_name
from typing import Any

import channels.consumer
import pytest
from asgiref.sync import SyncToAsync, ThreadSensitiveContext, sync_to_async
from channels.consumer import AsyncConsumer
from daphne.server import Server
from django.db import connection
from django.db.models import prefetch_related_objects
from django.http import HttpRequest
from django.test.utils import CaptureQueriesContext
from rest_framework.request import Request

from bleep.runtime.collector import GC_THRESHOLDS
from bleep.runtime.consumers import DirectDispatch
from bleep.runtime.db_threads import on_executor
from bleep.runtime.http import OneHopASGIHandler
from bleep.runtime.orm import prefetch_known
from messaging.models import Bleep, Delivery

README = "bleep/runtime/README.md"


def shape(func: Callable[..., Any]) -> str:
    """Return a short hash of `func`'s code, leaving out docstrings, comments and layout."""
    return shape_of(inspect.getsource(func))


def shape_of(source: str) -> str:
    """Return a short hash of `source`'s syntax tree, without docstrings."""
    tree = ast.parse(textwrap.dedent(source))
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                node.body = node.body[1:] or [ast.Pass()]
    return hashlib.sha256(ast.dump(tree).encode()).hexdigest()[:16]


# The upstream versions each pin was recorded on (bleep/runtime/README.md says the same).
CHECKED = {
    "django": ("Django", "5.2.19"),
    "asgiref": ("asgiref", "3.13.0"),
    "channels": ("channels", "4.3.2"),
    "daphne": ("daphne", "4.2.3"),
}


def assert_unchanged(override: str, pins: dict[str, str]) -> None:
    """Fail, naming the README section to re-check, if any pinned upstream code changed."""
    changed = {
        name: shape(resolve_name(name))
        for name, pinned in pins.items()
        if shape(resolve_name(name)) != pinned
    }
    versions = {CHECKED[name.split(".")[0]] for name in changed}
    now = {f"{dist} {checked}, now {version(dist)}" for dist, checked in versions}
    assert not changed, (
        f"upstream code that {override!r} replaces or relies on has changed ({'; '.join(now)}): "
        f"{changed}. Re-check {override!r} in {README} against it, then record the new "
        "hashes here and the versions there."
    )


def test_the_one_hop_handler_still_replaces_what_django_runs_per_request() -> None:
    assert_unchanged(
        "OneHopASGIHandler",
        {
            "django.core.handlers.base:BaseHandler.load_middleware": "f4d85a1850a2444f",
            "django.core.handlers.base:BaseHandler.get_response": "bffcc87645ac3679",
            "django.core.handlers.base:BaseHandler.get_response_async": "d2952b73a6a0916a",
            "django.core.handlers.asgi:ASGIHandler.__init__": "ff30c726f5053332",
            "django.core.handlers.asgi:ASGIHandler.run_get_response": "d965f06f1bf0c7f6",
        },
    )
    # The whole middleware chain is synchronous: one thread hop per request, not a dozen.
    assert not inspect.iscoroutinefunction(vars(OneHopASGIHandler())["_middleware_chain"])


async def test_request_threads_still_choose_the_thread_djangos_own_context_runs_on() -> None:
    assert_unchanged(
        "RequestThreads",
        {
            "django.core.handlers.asgi:ASGIHandler.__call__": "569fba593644398a",
            "asgiref.sync:ThreadSensitiveContext.__aenter__": "2ef2b48f652b88a3",
            "asgiref.sync:ThreadSensitiveContext.__aexit__": "e9d491be7098679a",
        },
    )
    # Django enters a context of its own inside ours: its calls must still run on our thread.
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="ours") as ours:
        async with ThreadSensitiveContext(executor=ours), ThreadSensitiveContext():
            name = await sync_to_async(lambda: threading.current_thread().name)()
    assert name.startswith("ours"), (
        f"Django's calls ran on {name}: re-check RequestThreads in {README}"
    )


async def test_direct_dispatch_still_replaces_channels_dispatch_and_its_connection_sweep(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert_unchanged(
        "DirectDispatch",
        {
            "channels.consumer:AsyncConsumer.dispatch": "641964c7ad88d6d1",
            "channels.consumer:get_handler_name": "bac274eee498d40b",
        },
    )
    swept: list[str] = []

    async def sweep() -> None:
        swept.append("sweep")

    class Consumer(DirectDispatch, AsyncConsumer):
        handled: list[str] = []

        async def hello_there(self, message: dict[str, Any]) -> None:
            self.handled.append(message["type"])

    monkeypatch.setattr(channels.consumer, "aclose_old_connections", sweep)
    await Consumer().dispatch({"type": "hello.there"})
    assert (Consumer.handled, swept) == (["hello.there"], [])


async def test_database_threads_still_bypass_only_channels_connection_sweep() -> None:
    assert_unchanged(
        "on_db_thread",
        {
            "channels.db:DatabaseSyncToAsync.thread_handler": "cedb571b23eb8515",
            "asgiref.sync:SyncToAsync.__init__": "02d7c834a265b593",
        },
    )
    assert {"thread_sensitive", "executor"} <= set(inspect.signature(SyncToAsync).parameters)
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="ours") as ours:
        name = await on_executor(lambda: threading.current_thread().name, ours)()
    assert name.startswith("ours"), f"ran on {name}: re-check on_db_thread in {README}"


@pytest.mark.django_db
def test_prefetch_known_still_fills_the_cache_django_reads_a_relation_from() -> None:
    related_manager = type(Bleep().deliveries)
    assert_unchanged(
        "prefetch_known",
        {
            "django.db.models.query:QuerySet._fetch_all": "b043aa1e05b30197",
            "django.db.models.query:prefetch_related_objects": "2c1bc6d1cd89c563",
        },
    )
    pinned = "6685cdafa03c9687"
    assert shape(related_manager.get_queryset) == pinned, (
        f"Django's reverse many-to-one manager's get_queryset changed: re-check prefetch_known "
        f"in {README}, then record {shape(related_manager.get_queryset)} here"
    )
    bleep = Bleep(pk=1)
    written = [Delivery(pk=1, bleep=bleep), Delivery(pk=2, bleep=bleep)]
    prefetch_known(bleep, "deliveries", written)
    with CaptureQueriesContext(connection) as queries:
        read = list(bleep.deliveries.all())
        prefetch_related_objects([bleep], "deliveries")
    assert read == written
    assert len(queries) == 0, f"Django read the rows again: re-check prefetch_known in {README}"


def test_the_collector_settings_were_measured_on_this_pythons_collector() -> None:
    # The measurements behind GC_THRESHOLDS and the frozen start-up hold for the collector
    # they were taken on; a newer Python's may read thresholds otherwise (3.14's is incremental).
    checked = ("CPython", (3, 11))
    here = (platform.python_implementation(), sys.version_info[:2])
    assert here == checked, f"running on {here}: re-measure the collector settings in {README}"
    assert len(gc.get_threshold()) == len(GC_THRESHOLDS)
    assert callable(gc.freeze)


def test_the_admin_forms_still_check_rules_where_django_builds_the_instance() -> None:
    assert_unchanged(
        "admin forms' _post_clean",
        {
            "django.forms.models:BaseModelForm._post_clean": "43c77a875a70633d",
            "django.forms.forms:BaseForm.full_clean": "bb1400b4b87c7bc9",
        },
    )


def test_drf_still_keeps_djangos_request_where_sign_in_reads_it() -> None:
    django_request = HttpRequest()
    assert Request(django_request)._request is django_request, (
        f"DRF's Request no longer keeps Django's as _request: re-check sign-in in {README}"
    )


def test_daphne_still_takes_what_serve_builds_its_server_and_access_log_with() -> None:
    assert_unchanged(
        "serve's daphne Server and access log",
        {"daphne.access:AccessLogGenerator.__call__": "6becaa915df95dec"},
    )
    used = {
        "application",
        "endpoints",
        "ready_callable",
        "action_logger",
        "verbosity",
        "websocket_handshake_timeout",
    }
    assert used <= set(inspect.signature(Server).parameters), (
        f"daphne's Server no longer takes {used - set(inspect.signature(Server).parameters)}: "
        f"re-check serve in {README}"
    )


def test_the_readme_names_the_versions_the_pins_were_recorded_on() -> None:
    readme = (Path(__file__).resolve().parents[2] / README).read_text()
    missing = [f"{dist} {checked}" for dist, checked in CHECKED.values()]
    assert [named for named in missing if named not in readme] == []


def test_a_pin_ignores_comments_docstrings_and_layout_but_not_code() -> None:
    pinned = shape_of("def f(a):\n    return a + 1\n")
    assert (
        shape_of('def f(a):\n    """Add one."""\n    # why\n    return (a +\n        1)\n')
        == pinned
    )
    assert shape_of("def f(a):\n    return a + 2\n") != pinned
