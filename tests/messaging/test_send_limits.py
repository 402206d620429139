"""Send limits on the socket, and switchboard's sockets told of a flood, live and on resuming."""

import threading
from typing import Any

import pytest
from channels.db import database_sync_to_async
from django.db import connection
from django.utils import timezone

from escalation.services.sending import send_bleep
from messaging.exceptions import SendLimitReached
from messaging.models import Bleep, FloodAlert, Priority
from tests import factories
from tests.conftest import Ward
from tests.messaging.test_consumers import open_socket, read_until_caught_up

pytestmark = pytest.mark.django_db(transaction=True)

# Web processes (threads here, each with its own connection) sending for one nurse at once.
SIMULTANEOUS_SENDS = 8


@database_sync_to_async
def nurse_sends(ward: Ward, count: int, priority: Priority = Priority.ROUTINE) -> None:
    for n in range(count):
        draft = factories.draft(ward.role, f"job {n}", priority=priority)
        send_bleep(sender=ward.nurse, device=None, draft=draft, now=timezone.now())


async def test_a_socket_send_past_the_limit_is_refused_with_the_same_code_and_retry_after(
    ward: Ward, settings: Any
) -> None:
    settings.SEND_LIMIT_PER_MINUTE, settings.SEND_LIMIT_BURST = 2, 2
    await nurse_sends(ward, 2)
    nurse = await open_socket(ward.nurse_token)
    await read_until_caught_up(nurse)

    frame = {"type": "send", "ref": "s1", "role": ward.role.pk, "message": "Bed 4 review"}
    await nurse.send_json_to(frame)

    refusal = await nurse.receive_json_from()
    assert refusal["type"] == "error" and refusal["ref"] == "s1"
    assert refusal["code"] == "too_many_bleeps"
    assert 59 <= refusal["retry_after"] <= 60
    assert refusal["detail"].startswith("Too many bleeps sent in the last minute. Try again in")
    assert await database_sync_to_async(Bleep.objects.count)() == 2
    await nurse.disconnect()


@pytest.mark.hazard("HZ-25")
async def test_an_emergency_past_the_limit_goes_and_switchboard_sees_the_alert_live_and_later(
    ward: Ward, settings: Any
) -> None:
    settings.SEND_LIMIT_PER_MINUTE, settings.SEND_LIMIT_BURST = 2, 2
    _, operator_token = await database_sync_to_async(factories.make_device)(ward.operator)
    board = await open_socket(operator_token)
    await read_until_caught_up(board)
    await nurse_sends(ward, 2)
    nurse = await open_socket(ward.nurse_token)
    await read_until_caught_up(nurse)

    frame = {"type": "send", "ref": "e1", "role": ward.role.pk, "message": "Arrest bay 3"}
    await nurse.send_json_to({**frame, "priority": "emergency"})

    frames = [await nurse.receive_json_from(), await nurse.receive_json_from()]
    ok = next(f for f in frames if f["type"] == "ok")
    assert (ok["ref"], ok["created"]) == ("e1", True)
    flood = await board.receive_json_from()
    assert flood["type"] == "switchboard.flood"
    alert = await database_sync_to_async(FloodAlert.objects.get)()
    assert flood["alert"]["id"] == alert.pk
    assert flood["alert"]["sender"]["id"] == ward.nurse.pk
    assert "Arrest" not in str(flood)
    await board.disconnect()
    # A board that was away resumes and is told as well: the event is stored.
    again = await open_socket(operator_token, last_seq=0, resume=True)
    missed = await read_until_caught_up(again)
    assert [e["alert"]["id"] for e in missed if e["type"] == "switchboard.flood"] == [alert.pk]
    await again.disconnect()
    await nurse.disconnect()


def test_the_limits_are_read_from_settings(ward: Ward, settings: Any) -> None:
    settings.SEND_LIMIT_PER_MINUTE, settings.SEND_LIMIT_BURST = 1, 1
    send_bleep(sender=ward.nurse, device=None, draft=factories.draft(ward.role), now=ward.now)

    with pytest.raises(SendLimitReached) as refused:
        send_bleep(sender=ward.nurse, device=None, draft=factories.draft(ward.role), now=ward.now)

    assert refused.value.seconds == 60


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="needs PostgreSQL row locks: PostgreSQL pass"
)
def test_sends_from_one_nurse_at_the_same_moment_in_many_processes_stop_at_the_limit(
    ward: Ward, settings: Any
) -> None:
    settings.SEND_LIMIT_PER_MINUTE, settings.SEND_LIMIT_BURST = 3, 3
    start = threading.Barrier(SIMULTANEOUS_SENDS)
    outcomes: list[str] = []

    def one_send(n: int) -> None:
        draft = factories.draft(ward.role, f"job {n}")
        start.wait()
        try:
            send_bleep(sender=ward.nurse, device=None, draft=draft, now=ward.now)
            outcomes.append("sent")
        except SendLimitReached:
            outcomes.append("refused")
        finally:
            connection.close()

    threads = [threading.Thread(target=one_send, args=(n,)) for n in range(SIMULTANEOUS_SENDS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert sorted(outcomes) == ["refused"] * (SIMULTANEOUS_SENDS - 3) + ["sent"] * 3
    assert Bleep.objects.count() == 3
    assert FloodAlert.objects.count() == 1
