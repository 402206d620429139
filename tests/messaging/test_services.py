"""Sending, receipts, acknowledgement, the history, the event stream (numbered at the end of
its transaction), retries after a deadlock, and device sign-in."""

import threading
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.db import OperationalError, connection, transaction
from psycopg import errors as psycopg_errors

from bleep.tokens import digest_token
from messaging.actions import Action
from messaging.exceptions import (
    AlreadyAcknowledged,
    BleepNotFound,
    InvalidCredentials,
    InvalidToken,
    NotARecipient,
)
from messaging.models import (
    Bleep,
    BleepStatus,
    Delivery,
    DeliveryStatus,
    Device,
    HistoryEntry,
    StreamEvent,
)
from messaging.selectors import snapshot_for
from messaging.services import stream as stream_service
from messaging.services.answers import acknowledge_bleep, record_receipt
from messaging.services.bleeps import create_bleep
from messaging.services.devices import authenticate_device, revoke_device, sign_in_device
from messaging.services.stream import append_events, retry_on_conflict, stream_transaction
from rota.exceptions import NoHolderInChain
from rota.models import Person, Role
from tests.conftest import Ward
from tests.factories import (
    PASSWORD,
    draft,
    make_device,
    make_person,
    make_role,
    on_call_now,
    sign_in_request,
)


def send(ward: Ward, *, role: Role | None = None, sender: Person | None = None) -> Bleep:
    """Send a routine bleep from the nurse's phone (or `sender`, with no device) at ward.now."""
    return create_bleep(
        sender=sender or ward.nurse,
        device=None if sender else ward.nurse_device,
        draft=draft(role or ward.role),
        now=ward.now,
    )


def second_holder(ward: Ward, username: str = "sara.lind") -> tuple[Person, Device]:
    """Put a second doctor on the ward's role now, signed in on their own phone."""
    doctor = make_person(username)
    on_call_now(ward.role, doctor, ward.now)
    return doctor, make_device(doctor)[0]


def stream(person: Person) -> list[tuple[int, str]]:
    return list(StreamEvent.objects.filter(user=person).order_by("seq").values_list("seq", "type"))


def history(bleep: Bleep) -> list[tuple[str, int | None, str, str]]:
    return list(
        HistoryEntry.objects.filter(bleep=bleep)
        .order_by("pk")
        .values_list("action", "delivery__recipient_id", "from_status", "to_status")
    )


def delivery_of(bleep: Bleep, person: Person) -> Delivery:
    return Delivery.objects.get(bleep=bleep, recipient=person)


def test_a_bleep_stores_one_delivery_per_holder(ward: Ward) -> None:
    sara, _ = second_holder(ward)

    bleep = send(ward)

    deliveries = bleep.deliveries.order_by("recipient_id")
    assert [(d.recipient_id, d.status) for d in deliveries] == [
        (ward.doctor.pk, DeliveryStatus.SENT),
        (sara.pk, DeliveryStatus.SENT),
    ]
    assert bleep.status == BleepStatus.OPEN
    assert bleep.answering_role == ward.role
    assert bleep.created_at == ward.now


def test_a_bleep_records_its_sending_and_each_delivery_in_the_history(ward: Ward) -> None:
    sara, _ = second_holder(ward)

    bleep = send(ward)

    assert history(bleep) == [
        ("send", None, "", "open"),
        ("send", ward.doctor.pk, "", "sent"),
        ("send", sara.pk, "", "sent"),
    ]
    entries = HistoryEntry.objects.filter(bleep=bleep)
    assert {(e.actor_id, e.device_id, e.at) for e in entries} == {
        (ward.nurse.pk, ward.nurse_device.pk, ward.now)
    }
    assert entries.get(delivery=None).detail == {"via_fallback": False}


def test_a_new_bleep_is_streamed_to_the_sender_and_each_recipient(ward: Ward) -> None:
    sara, _ = second_holder(ward)

    bleep = send(ward)

    for person in [ward.nurse, ward.doctor, sara]:
        assert stream(person) == [(1, "bleep.created")]
    assert stream(ward.operator) == []
    event = StreamEvent.objects.get(user=ward.doctor)
    assert event.data["bleep"]["id"] == bleep.pk
    assert event.data["bleep"]["sender"]["id"] == ward.nurse.pk
    assert [d["recipient"]["id"] for d in event.data["bleep"]["deliveries"]] == [
        ward.doctor.pk,
        sara.pk,
    ]


@pytest.mark.hazard("HZ-05")
def test_stream_numbers_count_up_one_by_one_for_each_person_on_their_own(ward: Ward) -> None:
    send(ward)  # nurse -> registrar
    send(ward, role=ward.switchboard_role)  # nurse -> switchboard
    send(ward, sender=ward.operator)  # switchboard -> registrar

    assert stream(ward.nurse) == [(1, "bleep.created"), (2, "bleep.created")]
    assert stream(ward.doctor) == [(1, "bleep.created"), (2, "bleep.created")]
    assert stream(ward.operator) == [(1, "bleep.created"), (2, "bleep.created")]


def test_a_sender_who_holds_the_role_gets_one_event_not_two(ward: Ward) -> None:
    send(ward, sender=ward.doctor)

    assert stream(ward.doctor) == [(1, "bleep.created")]


def test_a_bleep_to_a_role_with_no_holder_goes_to_the_fallbacks_holder(ward: Ward) -> None:
    gap = make_role("F1 Ward 7 cover", fallback=ward.role)

    bleep = send(ward, role=gap)

    assert bleep.role == gap
    assert bleep.answering_role == ward.role
    assert [d.recipient_id for d in bleep.deliveries.all()] == [ward.doctor.pk]
    assert HistoryEntry.objects.get(bleep=bleep, delivery=None).detail == {"via_fallback": True}
    assert stream(ward.doctor) == [(1, "bleep.created")]


@pytest.mark.hazard("HZ-11")
def test_a_bleep_nobody_can_answer_is_refused_and_leaves_nothing_behind(ward: Ward) -> None:
    orphan = make_role("Night porter")

    with pytest.raises(NoHolderInChain):
        send(ward, role=orphan)

    assert not Bleep.objects.exists()
    assert not StreamEvent.objects.exists()


def test_acknowledging_moves_the_delivery_and_the_bleep_to_acknowledged(ward: Ward) -> None:
    bleep = send(ward)
    later = ward.now + timedelta(minutes=2)

    delivery = acknowledge_bleep(
        device=ward.doctor_device, bleep_id=bleep.pk, eta_minutes=10, comment="coming", now=later
    )

    delivery.refresh_from_db()
    bleep.refresh_from_db()
    assert delivery.recipient == ward.doctor
    assert (delivery.status, delivery.eta_minutes, delivery.comment) == (
        DeliveryStatus.ACKNOWLEDGED,
        10,
        "coming",
    )
    assert delivery.updated_at == later
    assert bleep.status == BleepStatus.ACKNOWLEDGED
    assert bleep.acknowledged_by == ward.doctor


def test_acknowledging_records_the_delivery_and_the_bleep_moves_in_the_history(
    ward: Ward,
) -> None:
    bleep = send(ward)
    later = ward.now + timedelta(minutes=2)

    acknowledge_bleep(
        device=ward.doctor_device, bleep_id=bleep.pk, eta_minutes=None, comment="", now=later
    )

    assert history(bleep)[2:] == [
        ("acknowledge", ward.doctor.pk, "sent", "acknowledged"),
        ("acknowledge", None, "open", "acknowledged"),
    ]
    new = HistoryEntry.objects.filter(bleep=bleep, action="acknowledge")
    assert {(e.actor_id, e.device_id, e.at) for e in new} == {
        (ward.doctor.pk, ward.doctor_device.pk, later)
    }


@pytest.mark.hazard("HZ-09")
def test_an_acknowledgement_is_streamed_to_the_sender_and_every_recipient(ward: Ward) -> None:
    sara, _ = second_holder(ward)
    bleep = send(ward)

    acknowledge_bleep(
        device=ward.doctor_device, bleep_id=bleep.pk, eta_minutes=10, comment="coming", now=ward.now
    )

    for person in [ward.nurse, ward.doctor, sara]:
        assert stream(person) == [(1, "bleep.created"), (2, "bleep.acknowledged")]
    event = StreamEvent.objects.get(user=ward.nurse, seq=2).data
    assert (event["bleep_id"], event["by"]["id"], event["eta_minutes"], event["comment"]) == (
        bleep.pk,
        ward.doctor.pk,
        10,
        "coming",
    )


@pytest.mark.hazard("HZ-09")
def test_a_second_holder_acknowledging_after_the_first_is_told_who_won(ward: Ward) -> None:
    sara, sara_phone = second_holder(ward)
    bleep = send(ward)
    acknowledge_bleep(
        device=ward.doctor_device, bleep_id=bleep.pk, eta_minutes=5, comment="", now=ward.now
    )
    history_before = history(bleep)

    with pytest.raises(AlreadyAcknowledged) as refused:
        acknowledge_bleep(
            device=sara_phone, bleep_id=bleep.pk, eta_minutes=1, comment="", now=ward.now
        )

    assert refused.value.by == "Omar Haddad"
    assert str(refused.value) == "already acknowledged by Omar Haddad"
    assert delivery_of(bleep, sara).status == DeliveryStatus.SENT
    assert history(bleep) == history_before
    assert stream(sara) == [(1, "bleep.created"), (2, "bleep.acknowledged")]


def test_a_receipt_moves_a_delivery_to_delivered_and_then_to_read(ward: Ward) -> None:
    bleep = send(ward)
    t1, t2 = ward.now + timedelta(seconds=1), ward.now + timedelta(seconds=30)

    delivered = record_receipt(
        device=ward.doctor_device, bleep_id=bleep.pk, action=Action.DELIVER, now=t1
    )
    assert (delivered.status, delivered.updated_at) == (DeliveryStatus.DELIVERED, t1)
    read = record_receipt(device=ward.doctor_device, bleep_id=bleep.pk, action=Action.READ, now=t2)

    assert delivery_of(bleep, ward.doctor).status == DeliveryStatus.READ
    assert read.updated_at == t2
    assert history(bleep)[2:] == [
        ("deliver", ward.doctor.pk, "sent", "delivered"),
        ("read", ward.doctor.pk, "delivered", "read"),
    ]
    assert Bleep.objects.get(pk=bleep.pk).status == BleepStatus.OPEN


def test_a_receipt_is_streamed_to_the_sender_and_that_recipient_only(ward: Ward) -> None:
    sara, _ = second_holder(ward)
    bleep = send(ward)

    record_receipt(
        device=ward.doctor_device, bleep_id=bleep.pk, action=Action.DELIVER, now=ward.now
    )

    assert stream(ward.nurse) == [(1, "bleep.created"), (2, "delivery.updated")]
    assert stream(ward.doctor) == [(1, "bleep.created"), (2, "delivery.updated")]
    assert stream(sara) == [(1, "bleep.created")]
    event = StreamEvent.objects.get(user=ward.nurse, seq=2).data
    assert event["delivery"]["status"] == "delivered"


def test_a_repeated_deliver_receipt_from_a_second_device_changes_nothing(ward: Ward) -> None:
    bleep = send(ward)
    tablet, _ = make_device(ward.doctor, name="tablet")
    record_receipt(
        device=ward.doctor_device, bleep_id=bleep.pk, action=Action.DELIVER, now=ward.now
    )
    history_before = history(bleep)
    events_before = StreamEvent.objects.count()

    again = record_receipt(
        device=tablet, bleep_id=bleep.pk, action=Action.DELIVER, now=ward.now + timedelta(seconds=5)
    )

    assert again.status == DeliveryStatus.DELIVERED
    assert delivery_of(bleep, ward.doctor).updated_at == ward.now
    assert history(bleep) == history_before
    assert StreamEvent.objects.count() == events_before


def test_a_late_read_receipt_after_acknowledging_changes_nothing(ward: Ward) -> None:
    bleep = send(ward)
    acknowledge_bleep(
        device=ward.doctor_device, bleep_id=bleep.pk, eta_minutes=None, comment="", now=ward.now
    )
    events_before = StreamEvent.objects.count()

    late = record_receipt(
        device=ward.doctor_device, bleep_id=bleep.pk, action=Action.READ, now=ward.now
    )

    assert late.status == DeliveryStatus.ACKNOWLEDGED
    assert StreamEvent.objects.count() == events_before


def test_the_sender_cannot_acknowledge_their_own_bleep(ward: Ward) -> None:
    bleep = send(ward)

    with pytest.raises(NotARecipient):
        acknowledge_bleep(
            device=ward.nurse_device, bleep_id=bleep.pk, eta_minutes=None, comment="", now=ward.now
        )

    assert Bleep.objects.get(pk=bleep.pk).status == BleepStatus.OPEN


def test_switchboard_sees_every_bleep_but_cannot_acknowledge_one_not_sent_to_it(
    ward: Ward,
) -> None:
    bleep = send(ward)
    operator_phone, _ = make_device(ward.operator)

    with pytest.raises(NotARecipient):
        acknowledge_bleep(
            device=operator_phone, bleep_id=bleep.pk, eta_minutes=None, comment="", now=ward.now
        )


def test_a_stranger_acknowledging_a_bleep_is_told_it_does_not_exist(ward: Ward) -> None:
    bleep = send(ward)
    stranger_phone, _ = make_device(make_person("nosy.parker", job=Person.Job.NURSE))

    with pytest.raises(BleepNotFound):
        acknowledge_bleep(
            device=stranger_phone, bleep_id=bleep.pk, eta_minutes=None, comment="", now=ward.now
        )
    with pytest.raises(BleepNotFound):
        record_receipt(device=stranger_phone, bleep_id=bleep.pk, action=Action.READ, now=ward.now)

    assert Bleep.objects.get(pk=bleep.pk).status == BleepStatus.OPEN


def test_a_history_entry_cannot_be_changed_once_saved(ward: Ward) -> None:
    bleep = send(ward)
    entry = HistoryEntry.objects.filter(bleep=bleep).first()
    assert entry is not None
    entry.to_status = "tampered"

    with pytest.raises(TypeError):
        entry.save()

    assert HistoryEntry.objects.get(pk=entry.pk).to_status == "open"


def test_a_history_entry_cannot_be_deleted(ward: Ward) -> None:
    bleep = send(ward)
    entry = HistoryEntry.objects.filter(bleep=bleep).first()
    assert entry is not None

    with pytest.raises(TypeError):
        entry.delete()

    assert HistoryEntry.objects.filter(pk=entry.pk).exists()


def test_history_entries_cannot_be_updated_or_deleted_in_bulk(ward: Ward) -> None:
    bleep = send(ward)
    before = history(bleep)

    with pytest.raises(TypeError):
        HistoryEntry.objects.filter(bleep=bleep).update(to_status="tampered")
    with pytest.raises(TypeError):
        HistoryEntry.objects.filter(bleep=bleep).delete()
    with pytest.raises(TypeError):
        HistoryEntry.objects.all().delete()

    assert history(bleep) == before


def test_signing_in_registers_a_device_and_keeps_only_a_digest_of_its_token(ward: Ward) -> None:
    device, token = sign_in_device(
        username="omar.haddad",
        password=PASSWORD,
        device_name="pager app",
        request=sign_in_request(),
        now=ward.now,
    )

    assert (device.user, device.name, device.created_at) == (ward.doctor, "pager app", ward.now)
    assert device.token_digest == digest_token(token)
    assert token not in device.token_digest


def test_signing_in_with_a_wrong_password_raises_invalid_credentials(ward: Ward) -> None:
    with pytest.raises(InvalidCredentials):
        sign_in_device(
            username="omar.haddad",
            password="wrong",
            device_name="phone",
            request=sign_in_request(),
            now=ward.now,
        )

    assert Device.objects.filter(user=ward.doctor).count() == 1


def test_signing_in_as_nobody_raises_invalid_credentials(db: None) -> None:
    with pytest.raises(InvalidCredentials):
        sign_in_device(
            username="nobody",
            password=PASSWORD,
            device_name="phone",
            request=sign_in_request(),
            now=datetime(2026, 1, 1, tzinfo=UTC),
        )


def test_a_disabled_account_cannot_sign_in_even_with_the_right_password(ward: Ward) -> None:
    ward.doctor.is_active = False
    ward.doctor.save(update_fields=["is_active"])

    with pytest.raises(InvalidCredentials):
        sign_in_device(
            username="omar.haddad",
            password=PASSWORD,
            device_name="phone",
            request=sign_in_request(),
            now=ward.now,
        )


def test_a_live_token_authenticates_its_device(ward: Ward) -> None:
    assert authenticate_device(token=ward.doctor_token, now=ward.now) == ward.doctor_device


def test_an_unknown_token_is_rejected(ward: Ward) -> None:
    with pytest.raises(InvalidToken):
        authenticate_device(token="not-a-token", now=ward.now)


def test_a_revoked_token_is_rejected(ward: Ward) -> None:
    revoke_device(device=ward.doctor_device, now=ward.now)

    with pytest.raises(InvalidToken):
        authenticate_device(token=ward.doctor_token, now=ward.now)
    assert authenticate_device(token=ward.nurse_token, now=ward.now) == ward.nurse_device


def test_the_token_of_a_disabled_account_is_rejected(ward: Ward) -> None:
    ward.doctor.is_active = False
    ward.doctor.save(update_fields=["is_active"])

    with pytest.raises(InvalidToken):
        authenticate_device(token=ward.doctor_token, now=ward.now)


def test_authenticating_refreshes_last_seen_only_after_a_minute(ward: Ward) -> None:
    seen = ward.doctor_device.last_seen_at

    authenticate_device(token=ward.doctor_token, now=seen + timedelta(seconds=60))
    assert Device.objects.get(pk=ward.doctor_device.pk).last_seen_at == seen
    authenticate_device(token=ward.doctor_token, now=seen + timedelta(seconds=61))
    assert Device.objects.get(pk=ward.doctor_device.pk).last_seen_at == seen + timedelta(seconds=61)


def acknowledge_in_thread(
    device: Device, bleep_id: int, now: datetime, start: threading.Barrier, outcomes: list[object]
) -> None:
    """Acknowledge once `start` releases both threads; record the result or the error."""
    try:
        start.wait(timeout=10)
        outcomes.append(
            acknowledge_bleep(device=device, bleep_id=bleep_id, eta_minutes=5, comment="", now=now)
        )
    except Exception as error:  # recorded and asserted on below, never lost
        outcomes.append(error)
    finally:
        connection.close()


@pytest.mark.django_db(transaction=True)
@pytest.mark.hazard("HZ-09")
def test_of_two_simultaneous_acknowledgements_exactly_one_wins(ward: Ward) -> None:
    sara, sara_phone = second_holder(ward)
    bleep = send(ward)
    start = threading.Barrier(2)
    outcomes: list[object] = []
    threads = [
        threading.Thread(
            target=acknowledge_in_thread, args=(device, bleep.pk, ward.now, start, outcomes)
        )
        for device in [ward.doctor_device, sara_phone]
    ]

    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert not any(thread.is_alive() for thread in threads)
    winners = [o for o in outcomes if isinstance(o, Delivery)]
    losers = [o for o in outcomes if isinstance(o, AlreadyAcknowledged)]
    assert (len(winners), len(losers)) == (1, 1), outcomes
    bleep.refresh_from_db()
    assert bleep.status == BleepStatus.ACKNOWLEDGED
    assert bleep.acknowledged_by_id == winners[0].recipient_id
    assert losers[0].by == str(winners[0].recipient)
    assert Delivery.objects.filter(bleep=bleep, status=DeliveryStatus.ACKNOWLEDGED).count() == 1
    assert HistoryEntry.objects.filter(bleep=bleep, action="acknowledge").count() == 2
    for person in [ward.nurse, ward.doctor, sara]:
        assert stream(person) == [(1, "bleep.created"), (2, "bleep.acknowledged")]


def test_a_snapshot_for_someone_never_in_a_bleep_is_empty_and_costs_one_query(
    ward: Ward, django_assert_num_queries: Any
) -> None:
    create_bleep(sender=ward.nurse, device=ward.nurse_device, draft=draft(ward.role), now=ward.now)
    newcomer = make_person("new.starter")

    with django_assert_num_queries(1):
        assert snapshot_for(newcomer) == (0, [])
    head, bleeps = snapshot_for(ward.doctor)
    assert head == 1
    assert [bleep.role_id for bleep in bleeps] == [ward.role.pk]


def test_a_transactions_events_are_stored_at_its_end_numbered_in_the_order_appended(
    ward: Ward,
) -> None:
    with stream_transaction():
        append_events(user_ids=[ward.doctor.pk], event={"type": "test.first"}, now=ward.now)
        append_events(
            user_ids=[ward.nurse.pk, ward.doctor.pk], event={"type": "test.second"}, now=ward.now
        )
        append_events(user_ids=[ward.doctor.pk], event={"type": "test.third"}, now=ward.now)
        # Numbering waits for the end, so the heads are the transaction's last locks.
        assert not StreamEvent.objects.exists()

    assert stream(ward.doctor) == [(1, "test.first"), (2, "test.second"), (3, "test.third")]
    assert stream(ward.nurse) == [(1, "test.second")]


def test_the_events_of_a_nested_stream_transaction_that_rolls_back_go_with_it(
    ward: Ward,
) -> None:
    with stream_transaction():
        append_events(user_ids=[ward.doctor.pk], event={"type": "test.kept"}, now=ward.now)
        with pytest.raises(ZeroDivisionError), stream_transaction():
            append_events(user_ids=[ward.doctor.pk], event={"type": "test.lost"}, now=ward.now)
            raise ZeroDivisionError
        append_events(user_ids=[ward.doctor.pk], event={"type": "test.after"}, now=ward.now)

    assert stream(ward.doctor) == [(1, "test.kept"), (2, "test.after")]


def test_an_event_appended_outside_a_stream_transaction_is_refused(ward: Ward) -> None:
    with pytest.raises(RuntimeError, match="stream_transaction"), transaction.atomic():
        append_events(user_ids=[ward.doctor.pk], event={"type": "test.lost"}, now=ward.now)


def test_an_event_appended_in_a_savepoint_of_another_kind_is_refused(ward: Ward) -> None:
    # Its rollback would leave the event behind, describing a change that never happened.
    with stream_transaction(), pytest.raises(RuntimeError, match="savepoint"):
        with transaction.atomic():
            append_events(user_ids=[ward.doctor.pk], event={"type": "test.lost"}, now=ward.now)


@pytest.mark.hazard("HZ-15")
def test_a_deadlock_that_rolled_back_a_service_is_retried_and_succeeds(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(stream_service, "CONFLICT_PAUSE", timedelta(0))
    calls: list[int] = []

    @retry_on_conflict
    def service() -> str:
        calls.append(1)
        if len(calls) < 3:
            raise conflict("40P01")
        return "done"

    assert service() == "done"
    assert len(calls) == 3


def conflict(sqlstate: str) -> OperationalError:
    """Return the error Django raises for a PostgreSQL error with `sqlstate`."""
    error = OperationalError("deadlock detected")
    error.__cause__ = psycopg_errors.lookup(sqlstate)("deadlock detected")
    return error


def test_a_conflict_that_persists_is_raised_after_a_few_attempts(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(stream_service, "CONFLICT_PAUSE", timedelta(0))
    calls: list[int] = []

    @retry_on_conflict
    def service() -> None:
        calls.append(1)
        raise conflict("40001")

    with pytest.raises(OperationalError):
        service()
    assert len(calls) == stream_service.CONFLICT_ATTEMPTS


def test_other_database_errors_are_not_retried() -> None:
    calls: list[int] = []

    @retry_on_conflict
    def service() -> None:
        calls.append(1)
        raise conflict("57014")  # query_canceled: a statement timeout is not a conflict

    with pytest.raises(OperationalError):
        service()
    assert calls == [1]


def test_a_deadlock_inside_a_callers_transaction_goes_up_to_the_caller(db: None) -> None:
    # Only the whole transaction was rolled back; running the inner part again inside it
    # would miss everything the caller did before.
    calls: list[int] = []

    @retry_on_conflict
    def service() -> None:
        calls.append(1)
        raise conflict("40P01")

    with pytest.raises(OperationalError), transaction.atomic():
        service()
    assert calls == [1]
