"""What `make run` prints for a newcomer, run as printed against the running server."""

import json
import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from django.conf import settings

from bench.servers import stop_processes
from tests.e2e.conftest import ROOT, Server
from tests.e2e.conftest import test_database_url as database_url

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

WAIT_SECONDS = 30


def environment() -> dict[str, str]:
    """The newcomer's shell, pointed at the server's database rather than data/ in the clone."""
    return {
        **os.environ,
        "DATABASE_URL": database_url(),
        "BLEEP_DATA_DIR": str(settings.DATA_DIR),
        "DEBUG": "1",
        # A terminal shows each line as it comes; a pipe would hold them in a buffer.
        "PYTHONUNBUFFERED": "1",
    }


def printed_example(server: Server) -> str:
    """Return what `make run` prints once it has seeded the demo hospital."""
    seed = [sys.executable, "manage.py", "seed_demo", "--url", server.url]
    done = subprocess.run(
        seed, cwd=ROOT, env=environment(), capture_output=True, text=True, check=True
    )
    return done.stdout


def step(example: str, number: int) -> str:
    """Return the shell lines printed under `# N.`, as one would paste them."""
    block = re.search(rf"^ *# {number}\..*\n((?:  .+\n)+)", example, re.MULTILINE)
    assert block, f"no step {number} in:\n{example}"
    return "\n".join(line.removeprefix("  ") for line in block.group(1).splitlines())


@contextmanager
def terminal(command: str, output: Path) -> Iterator[Path]:
    """Run `command` in bash, as pasted into a terminal of its own, until the block ends."""
    with output.open("w") as out:
        process = subprocess.Popen(
            ["bash", "-c", command], cwd=ROOT, env=environment(), stdout=out, stderr=out
        )
    try:
        yield output
    finally:
        stop_processes([process])


def wait_for(output: Path, text: str) -> str:
    """Return the terminal's output once `text` has appeared in it."""
    deadline = time.monotonic() + WAIT_SECONDS
    while text not in (shown := output.read_text()):
        assert time.monotonic() < deadline, f"no {text!r} after {WAIT_SECONDS} s:\n{shown}"
        time.sleep(0.1)
    return shown


def test_the_listen_and_curl_commands_make_run_prints_work_as_printed(
    bleep_server: Server, tmp_path: Path
) -> None:
    example = printed_example(bleep_server)
    assert "Ward 7 (location" in example
    with (
        terminal(step(example, 1), tmp_path / "registrar.txt") as registrar,
        terminal(step(example, 2), tmp_path / "nurse.txt") as nurse,
    ):
        wait_for(registrar, "waiting for bleeps")
        wait_for(nurse, "waiting for bleeps")

        sent = subprocess.run(
            ["bash", "-c", step(example, 3)],
            cwd=ROOT,
            env=environment(),
            capture_output=True,
            text=True,
            check=True,
        )

        bleep = json.loads(sent.stdout)
        assert bleep["priority"] == "urgent"
        assert "BLEEP" in wait_for(registrar, "Bed 4 NEWS 7, please review (Ward 7, bed 4")
        shown = wait_for(nurse, "ACKNOWLEDGED by")
        assert f"bleep {bleep['id']} ACKNOWLEDGED by" in shown
        assert "coming, 10 min" in shown
