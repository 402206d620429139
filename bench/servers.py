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
    """The processes of one server under test, and the address of each of its web processes."""

    urls: list[str]
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return self.urls[0]

    def web_for(self, shard: int) -> tuple[str, str]:
        """Return the HTTP and WebSocket address generator shard `shard` talks to."""
        url = self.urls[shard % len(self.urls)]
        return url, url.replace("http://", "ws://") + "/ws"

    def rss_kib(self, name: str = "web") -> int:
        """Return the resident memory of process `name` in KiB (VmRSS)."""
        status = Path(f"/proc/{self.processes[name].pid}/status").read_text()
        line = next(line for line in status.splitlines() if line.startswith("VmRSS:"))
        return int(line.split()[1])


def product_commands(ports: list[int]) -> dict[str, list[str]]:
    """A web process per port without the escalation loop, and a worker, as in production."""
    python = sys.executable
    webs = {
        _web_name(n): [python, "manage.py", "serve", "--no-worker", "--quiet", "--port", str(port)]
        for n, port in enumerate(ports)
    }
    return {**webs, "worker": [python, "manage.py", "worker"]}


def floor_commands(ports: list[int]) -> dict[str, list[str]]:
    """The bare Channels app of bench/floor.py on the same daphne and channel layer."""
    return {
        _web_name(n): [sys.executable, "-m", "bench.floor", "--port", str(port)]
        for n, port in enumerate(ports)
    }


def _web_name(n: int) -> str:
    return "web" if n == 0 else f"web{n + 1}"


@contextmanager
def running(build: Callable[[list[int]], dict[str, list[str]]], webs: int = 1) -> Iterator[Running]:
    """Start what `build` makes for `webs` free ports, wait until each answers, then stop it."""
    ports = _free_ports(webs)
    commands = build(ports)
    server = Running(urls=[f"http://127.0.0.1:{port}" for port in ports])
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
        stop_processes(list(server.processes.values()))


def _free_ports(count: int) -> list[int]:
    probes = [socket.socket() for _ in range(count)]
    try:
        for probe in probes:
            probe.bind(("127.0.0.1", 0))
        return [int(probe.getsockname()[1]) for probe in probes]
    finally:
        for probe in probes:
            probe.close()


def _wait_until_healthy(server: Running) -> None:
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        for name, process in server.processes.items():
            if process.poll() is not None:
                raise RuntimeError(f"{name} exited with {process.returncode}; see {LOG}")
        try:
            if all(
                httpx.get(f"{url}/healthz", timeout=2).status_code == 200 for url in server.urls
            ):
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"server not healthy after {START_TIMEOUT_SECONDS} s; see {LOG}")


def stop_processes(processes: list[subprocess.Popen[bytes]]) -> None:
    """Ask each process to stop, then kill any still running after STOP_TIMEOUT_SECONDS."""
    for process in processes:
        process.terminate()
    for process in processes:
        try:
            process.wait(timeout=STOP_TIMEOUT_SECONDS)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
