"""A real Bleep server in subprocesses, on a free port, against the test database."""

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
from django.conf import settings

ROOT = Path(__file__).resolve().parents[2]
START_TIMEOUT_SECONDS = 30


@dataclass
class Server:
    url: str
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)

    @property
    def ws_url(self) -> str:
        return self.url.replace("http://", "ws://") + "/ws"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_database_url() -> str:
    """Return a DATABASE_URL for the database pytest-django created for this run."""
    db = settings.DATABASES["default"]
    if db["ENGINE"] == "django.db.backends.sqlite3":
        return f"sqlite:///{db['NAME']}"
    user, host, port = db.get("USER") or "postgres", db.get("HOST") or "127.0.0.1", db.get("PORT")
    auth = f"{user}:{db['PASSWORD']}" if db.get("PASSWORD") else user
    return f"postgres://{auth}@{host}:{port or 5432}/{db['NAME']}"


def server_commands(port: int) -> dict[str, list[str]]:
    """One embedded process, or (with Redis) daphne and a separate worker, as the Procfile."""
    python = sys.executable
    if not settings.REDIS_URL:
        return {"web": [python, "manage.py", "serve", "--port", str(port), "--quiet", "--worker"]}
    daphne = str(Path(python).with_name("daphne"))
    return {
        "web": [daphne, "-b", "127.0.0.1", "-p", str(port), "-v", "0", "bleep.asgi:application"],
        "worker": [python, "manage.py", "worker"],
    }


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


@pytest.fixture
def bleep_server(transactional_db: None) -> Iterator[Server]:
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": test_database_url(),
        "DEBUG": "1",
        "BLEEP_DATA_DIR": str(settings.DATA_DIR),
        "BLEEP_WORKER_IN_PROCESS": "0",
        "LOG_LEVEL": "WARNING",
    }
    server = Server(url=f"http://127.0.0.1:{port}")
    try:
        for name, command in server_commands(port).items():
            server.processes[name] = subprocess.Popen(command, cwd=ROOT, env=env)
        wait_until_healthy(server)
        yield server
    finally:
        for process in server.processes.values():
            process.terminate()
        for process in server.processes.values():
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
