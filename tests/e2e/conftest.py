"""A real Bleep server in subprocesses, on a free port, against the test database.

Everything the server processes (and a test's own redis-server) print goes to one file per
test, shown in the report when the test fails.
"""

import os
import socket
import subprocess
import sys
import time
from collections.abc import Generator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from django.conf import settings

from bench.servers import stop_processes

ROOT = Path(__file__).resolve().parents[2]
START_TIMEOUT_SECONDS = 30
REDIS_START_TIMEOUT_SECONDS = 10
SERVER_LOG = pytest.StashKey[Path]()


@dataclass
class Server:
    url: str
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)

    @property
    def ws_url(self) -> str:
        return self.url.replace("http://", "ws://") + "/ws"


@dataclass
class PrivateRedis:
    """A redis-server of one test's own on a spare port, which the test may stop and start."""

    port: int
    directory: Path
    log: Path
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        """Start redis-server (no persistence) and return once it answers PING."""
        note(self.log, f"starting redis-server on port {self.port}")
        command = ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1"]
        command += ["--save", "", "--appendonly", "no", "--dir", str(self.directory)]
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + REDIS_START_TIMEOUT_SECONDS
        while not answers_ping(self.port):
            if self.process.poll() is not None:
                raise RuntimeError(f"redis-server exited with {self.process.returncode}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"redis-server silent after {REDIS_START_TIMEOUT_SECONDS} s")
            time.sleep(0.05)

    def stop(self) -> None:
        """Stop redis-server with SIGTERM and wait until it has exited."""
        if self.process is not None:
            note(self.log, f"stopping redis-server on port {self.port}")
            stop_processes([self.process])
            self.process = None


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def answers_ping(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1) as connection:
            connection.sendall(b"PING\r\n")
            return connection.recv(16).startswith(b"+PONG")
    except OSError:
        return False


def note(log: Path, line: str) -> None:
    """Mark a step in the shared log, so the processes' lines can be read in context."""
    with log.open("a") as out:
        out.write(f"----- {time.strftime('%H:%M:%S')} {line} -----\n")


def test_database_url() -> str:
    """Return a DATABASE_URL for the database pytest-django created for this run."""
    db = settings.DATABASES["default"]
    if db["ENGINE"] == "django.db.backends.sqlite3":
        return f"sqlite:///{db['NAME']}"
    user, host, port = db.get("USER") or "postgres", db.get("HOST") or "127.0.0.1", db.get("PORT")
    auth = f"{user}:{db['PASSWORD']}" if db.get("PASSWORD") else user
    return f"postgres://{auth}@{host}:{port or 5432}/{db['NAME']}"


def server_commands(port: int, *, access_log: bool = False) -> dict[str, list[str]]:
    """One embedded process, or (with Redis) web and a separate worker, as the Procfile."""
    python = sys.executable
    serve = [python, "manage.py", "serve", "--port", str(port)]
    if not access_log:
        serve.append("--quiet")
    if not settings.REDIS_URL:
        return {"web": [*serve, "--worker"]}
    return {"web": [*serve, "--no-worker"], "worker": [python, "manage.py", "worker"]}


def wait_until_healthy(server: Server) -> None:
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    last = "no answer"
    while time.monotonic() < deadline:
        for name, process in server.processes.items():
            if process.poll() is not None:
                raise RuntimeError(f"{name} exited with {process.returncode}")
        try:
            response = httpx.get(f"{server.url}/healthz", timeout=2)
            if response.status_code == 200:
                return
            last = response.text
        except httpx.TransportError as error:
            last = str(error)
        time.sleep(0.2)
    raise RuntimeError(f"server not healthy after {START_TIMEOUT_SECONDS} s: {last}")


@contextmanager
def running_server(
    *,
    log: Path,
    redis_url: str | None = None,
    extra_env: dict[str, str] | None = None,
    access_log: bool = False,
    port: int | None = None,
) -> Iterator[Server]:
    """Run the server as the Procfile does, its output appended to `log`; on `port` when
    a peer must know the address first (an identity provider's redirect URIs)."""
    port = port or free_port()
    env = {
        **os.environ,
        "DATABASE_URL": test_database_url(),
        "DEBUG": "1",
        "BLEEP_DATA_DIR": str(settings.DATA_DIR),
        "BLEEP_WORKER_IN_PROCESS": "0",
        "LOG_LEVEL": "WARNING",
        **(extra_env or {}),
    }
    if redis_url is not None:
        env["REDIS_URL"] = redis_url
    server = Server(url=f"http://127.0.0.1:{port}")
    try:
        for name, command in server_commands(port, access_log=access_log).items():
            note(log, f"starting {name}: {' '.join(command)}")
            with log.open("ab") as out:
                server.processes[name] = subprocess.Popen(
                    command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT
                )
        wait_until_healthy(server)
        yield server
    finally:
        note(log, "stopping the server")
        stop_processes(list(server.processes.values()))


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item,
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    log = item.stash.get(SERVER_LOG, None)
    if report.failed and log is not None:
        report.sections.append((f"server output ({log})", log.read_text(errors="replace")))
    return report


@pytest.fixture
def server_log(request: pytest.FixtureRequest, tmp_path: Path) -> Path:
    """Return this test's file for the output of every process it starts."""
    log = tmp_path / "server.log"
    log.touch()
    request.node.stash[SERVER_LOG] = log
    return log


@pytest.fixture
def bleep_server(transactional_db: None, server_log: Path) -> Iterator[Server]:
    with running_server(log=server_log) as server:
        yield server


@pytest.fixture
def private_redis(tmp_path: Path, server_log: Path) -> Iterator[PrivateRedis]:
    """A redis-server this test owns, so it may stop it without touching the machine's."""
    if not settings.REDIS_URL:
        pytest.skip("the embedded pass has no Redis; run with REDIS_URL set")
    redis = PrivateRedis(port=free_port(), directory=tmp_path / "redis", log=server_log)
    redis.directory.mkdir()
    try:
        redis.start()
        yield redis
    finally:
        redis.stop()


@pytest.fixture
def bleep_server_on_private_redis(
    transactional_db: None, server_log: Path, private_redis: PrivateRedis
) -> Iterator[Server]:
    """The server as in production (web and worker), its channel layer on `private_redis`."""
    with running_server(log=server_log, redis_url=private_redis.url) as server:
        yield server


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    """One headless Chromium for a module of browser tests; each test opens a context per
    phone. (Imported here, not above: tests.e2e.browser imports this module.)"""
    from tests.e2e.browser import launch_chromium

    yield from launch_chromium()


@pytest.fixture
def people(transactional_db: None) -> dict[str, Any]:
    """A nurse on Ward 7, a registrar on bleep 2345 and switchboard, each with a login."""
    from tests.e2e.browser import hospital

    return hospital()
