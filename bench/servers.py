"""The server under test in subprocesses, as the Procfile runs it, on the bench backend."""

import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
LOG = ROOT / "bench" / "results" / "servers.log"
START_TIMEOUT_SECONDS = 60
STOP_TIMEOUT_SECONDS = 15


@dataclass
class Running:
    url: str
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)

    @property
    def ws_url(self) -> str:
        return self.url.replace("http://", "ws://") + "/ws"

    def rss_kib(self, name: str = "web") -> int:
        """Return the resident memory of process `name` in KiB (VmRSS)."""
        status = Path(f"/proc/{self.processes[name].pid}/status").read_text()
        line = next(line for line in status.splitlines() if line.startswith("VmRSS:"))
        return int(line.split()[1])


def product_commands(port: int) -> dict[str, list[str]]:
    """Web without the escalation loop, and the worker beside it, as in production."""
    python = sys.executable
    return {
        "web": [python, "manage.py", "serve", "--no-worker", "--quiet", "--port", str(port)],
        "worker": [python, "manage.py", "worker"],
    }


def floor_commands(port: int) -> dict[str, list[str]]:
    """The bare Channels app of bench/floor.py on the same daphne and channel layer."""
    return {"web": [sys.executable, "-m", "bench.floor", "--port", str(port)]}


@contextmanager
def running(build: Callable[[int], dict[str, list[str]]]) -> Iterator[Running]:
    """Start the commands `build` makes for a free port, wait for /healthz, then stop them."""
    port = _free_port()
    commands = build(port)
    server = Running(url=f"http://127.0.0.1:{port}")
    env = dict(os.environ)
    LOG.parent.mkdir(exist_ok=True)
    try:
        with LOG.open("ab") as out:
            for name, command in commands.items():
                out.write(f"----- {time.strftime('%H:%M:%S')} {' '.join(command)}\n".encode())
                out.flush()
                server.processes[name] = subprocess.Popen(
                    command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT
                )
        _wait_until_healthy(server)
        yield server
    finally:
        _stop(list(server.processes.values()))


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _wait_until_healthy(server: Running) -> None:
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        for name, process in server.processes.items():
            if process.poll() is not None:
                raise RuntimeError(f"{name} exited with {process.returncode}; see {LOG}")
        try:
            if httpx.get(f"{server.url}/healthz", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"server not healthy after {START_TIMEOUT_SECONDS} s; see {LOG}")


def _stop(processes: list[subprocess.Popen[bytes]]) -> None:
    for process in processes:
        process.terminate()
    for process in processes:
        try:
            process.wait(timeout=STOP_TIMEOUT_SECONDS)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
