"""The history cannot be rewritten: PostgreSQL refuses it, and a hash chain shows any change
made behind Bleep's back (docs/safety/append-only.md)."""

import importlib
import threading
from datetime import UTC, datetime, timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import IntegrityError, connection, transaction
from django.db.migrations.executor import MigrationExecutor

from bleep.append_only import (
    allow_truncate_of_a_scratch_database,
    refuse_trigger,
    truncate_trigger,
)
from escalation.services.firing import fire_due_deadlines
from escalation.services.sending import send_bleep
from messaging.actions import Action
from messaging.models import Bleep, Device, HistoryEntry, HistoryHead
from messaging.services.answers import acknowledge_bleep, record_receipt
from messaging.services.history import CHAIN_START, chain_hash, chained_content
from rota.models import Person, Site
from rota.services.records import write_record
from tests.conftest import Ward
from tests.factories import draft, make_device, make_person, on_call_now

T0 = datetime(2026, 11, 2, 9, 30, tzinfo=UTC)
HISTORY = "messaging_historyentry"
AUDIT = "rota_rotachange"
postgresql_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the triggers are PostgreSQL's"
)


def live_bleep(ward: Ward) -> Bleep:
    """Send a bleep and take it through its life: receipts, a reminder, an acknowledgement."""
    bleep = send_bleep(
        sender=ward.nurse, device=ward.nurse_device, draft=draft(ward.role), now=ward.now
    ).bleep
    for action in (Action.DELIVER, Action.READ):
        record_receipt(device=ward.doctor_device, bleep_id=bleep.pk, action=action, now=ward.now)
    fire_due_deadlines(now=ward.now + timedelta(minutes=10))
    acknowledge_bleep(
        device=ward.doctor_device,
        bleep_id=bleep.pk,
        eta_minutes=5,
        comment="coming",
        now=ward.now + timedelta(minutes=11),
    )
    return bleep


def entries(bleep: Bleep) -> list[HistoryEntry]:
    return list(HistoryEntry.objects.filter(bleep=bleep).order_by("pk"))


def check_history() -> str:
    """Run `manage.py check_history`; return what it printed, or raise its CommandError."""
    out = StringIO()
    try:
        call_command("check_history", stdout=out)
    except CommandError as error:
        raise CommandError(f"{out.getvalue()}{error}") from None
    return out.getvalue()


def behind_the_services_back(sql: str, params: list[int]) -> None:
    """Run raw SQL on the history as an intruder with the table owner's rights would.

    On PostgreSQL the append-only trigger is switched off first, inside the test's own
    transaction, so it is back on when the test's rollback ends.
    """
    if connection.vendor == "postgresql":
        switch_trigger(HISTORY, refuse_trigger(HISTORY), "DISABLE")
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def switch_trigger(table: str, trigger: str, switch: str) -> None:
    """ENABLE or DISABLE a trigger until the test's transaction ends."""
    with connection.cursor() as cursor:
        # The test's own rows still have foreign keys waiting to be checked at commit, and
        # PostgreSQL alters no table with checks pending: check them now.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute(f"ALTER TABLE {table} {switch} TRIGGER {trigger}")
        cursor.execute("SET CONSTRAINTS ALL DEFERRED")


@pytest.mark.hazard("HZ-19")
def test_a_bleeps_life_is_one_unbroken_chain_and_the_check_finds_it_intact(ward: Ward) -> None:
    bleep = live_bleep(ward)

    chain = entries(bleep)
    actions = [entry.action for entry in chain]
    assert actions[0] == "send" and "renotify" in actions and actions[-1] == "acknowledge"
    last = CHAIN_START
    for entry in chain:
        assert entry.prev_hash == last
        assert entry.hash == chain_hash(last, chained_content(entry))
        last = entry.hash
    head = HistoryHead.objects.get(bleep=bleep)
    assert (head.hash, head.length) == (last, len(chain))
    assert f"history intact: 1 bleeps, {len(chain)} history entries" in check_history()


@pytest.mark.hazard("HZ-19")
def test_an_entry_changed_behind_the_services_back_is_reported(ward: Ward) -> None:
    bleep = live_bleep(ward)
    acknowledged = entries(bleep)[-1]

    behind_the_services_back(
        f"UPDATE {HISTORY} SET actor_id = %s WHERE id = %s", [ward.nurse.pk, acknowledged.pk]
    )

    with pytest.raises(CommandError) as found:
        check_history()
    assert (
        f"bleep {bleep.pk}, entry {acknowledged.pk}: its content no longer matches its hash"
        in str(found.value)
    )
    assert "1 breaks in the history of 1 bleeps" in str(found.value)


@pytest.mark.hazard("HZ-19")
def test_an_entry_removed_from_the_middle_of_a_history_is_reported(ward: Ward) -> None:
    bleep = live_bleep(ward)
    chain = entries(bleep)

    behind_the_services_back(f"DELETE FROM {HISTORY} WHERE id = %s", [chain[2].pk])

    with pytest.raises(CommandError) as found:
        check_history()
    assert f"bleep {bleep.pk}, entry {chain[3].pk}: does not follow entry {chain[1].pk}" in str(
        found.value
    )


@pytest.mark.hazard("HZ-19")
def test_an_entry_slipped_in_with_a_well_made_hash_is_reported(ward: Ward) -> None:
    bleep = live_bleep(ward)
    last = entries(bleep)[-1]
    forged = HistoryEntry(
        bleep=bleep, action="cancel", from_status="acknowledged", to_status="cancelled", at=last.at
    )
    forged.prev_hash = last.hash
    forged.hash = chain_hash(last.hash, chained_content(forged))

    # Inserting is allowed (the history grows), so an intruder needs no trigger switched off.
    forged.save()

    with pytest.raises(CommandError) as found:
        check_history()
    assert (
        f"bleep {bleep.pk}, entry {forged.pk}: its head says {len(entries(bleep)) - 1} entries "
        f"but the chain has {len(entries(bleep))}, ending here: 1 were added after its end"
    ) in str(found.value)


@pytest.mark.hazard("HZ-19")
def test_the_last_entry_removed_is_reported(ward: Ward) -> None:
    bleep = live_bleep(ward)
    chain = entries(bleep)

    behind_the_services_back(f"DELETE FROM {HISTORY} WHERE id = %s", [chain[-1].pk])

    with pytest.raises(CommandError) as found:
        check_history()
    assert (
        f"bleep {bleep.pk}, entry {chain[-2].pk}: its head says {len(chain)} entries but the "
        f"chain has {len(chain) - 1}, ending here: 1 were removed from its end"
    ) in str(found.value)


@pytest.mark.hazard("HZ-19")
def test_a_history_removed_whole_is_reported(ward: Ward) -> None:
    bleep = live_bleep(ward)
    intact = live_bleep(ward)

    behind_the_services_back(f"DELETE FROM {HISTORY} WHERE bleep_id = %s", [bleep.pk])

    with pytest.raises(CommandError) as found:
        check_history()
    assert f"bleep {bleep.pk}: has no history at all" in str(found.value)
    assert f"bleep {intact.pk}" not in str(found.value)


@postgresql_only
@pytest.mark.hazard("HZ-19")
@pytest.mark.parametrize("table", [HISTORY, AUDIT])
def test_the_database_refuses_a_raw_update_or_delete_of_the_history_and_the_audit(
    ward: Ward, table: str
) -> None:
    live_bleep(ward)
    write_record(actor=ward.nurse, instance=Site(), changes={"name": "Audit"}, now=ward.now)

    for sql, operation in (
        (f"UPDATE {table} SET at = at", "UPDATE"),
        (f"DELETE FROM {table}", "DELETE"),
    ):
        refused = f"{table} is append-only: {operation} refused"
        with pytest.raises(IntegrityError, match=refused), transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute(sql)
    assert rows_in(table) > 0


@postgresql_only
@pytest.mark.hazard("HZ-19")
@pytest.mark.parametrize("table", [HISTORY, AUDIT])
def test_the_database_refuses_to_truncate_the_history_and_the_audit(ward: Ward, table: str) -> None:
    live_bleep(ward)
    write_record(actor=ward.nurse, instance=Site(), changes={"name": "Audit"}, now=ward.now)
    # The suite's own database lets TRUNCATE through for its teardown (tests/conftest.py);
    # switched back on here, inside this test's transaction, as a hospital's has it.
    switch_trigger(table, truncate_trigger(table), "ENABLE")

    refused = f"{table} is append-only: TRUNCATE refused"
    with pytest.raises(IntegrityError, match=refused), transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(f"TRUNCATE {table} CASCADE")
    assert rows_in(table) > 0


def rows_in(table: str) -> int:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*) FROM {table}")
        (count,) = cursor.fetchone() or (0,)
    return int(count)


def receipts_in_thread(
    device: Device, bleep_id: int, ward: Ward, start: threading.Barrier, errors: list[Exception]
) -> None:
    """Send a `deliver` then a `read` receipt once `start` releases every thread."""
    try:
        for action in (Action.DELIVER, Action.READ):
            start.wait(timeout=10)
            record_receipt(device=device, bleep_id=bleep_id, action=action, now=ward.now)
    except Exception as error:  # asserted on below, never lost
        errors.append(error)
    finally:
        connection.close()


@postgresql_only
@pytest.mark.django_db(transaction=True)
@pytest.mark.hazard("HZ-19")
def test_receipts_from_several_recipients_at_once_keep_one_unbroken_chain(ward: Ward) -> None:
    doctors: list[Person] = [make_person(f"doctor.{n}") for n in range(3)]
    for doctor in doctors:
        on_call_now(ward.role, doctor, ward.now)
    phones = [ward.doctor_device, *(make_device(doctor)[0] for doctor in doctors)]
    bleep = send_bleep(
        sender=ward.nurse, device=ward.nurse_device, draft=draft(ward.role), now=ward.now
    ).bleep
    start = threading.Barrier(len(phones))
    errors: list[Exception] = []
    threads = [
        threading.Thread(target=receipts_in_thread, args=(phone, bleep.pk, ward, start, errors))
        for phone in phones
    ]

    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert not any(thread.is_alive() for thread in threads)
    assert errors == []
    # The bleep's own "send", one "send" per copy, then a deliver and a read from each phone.
    assert HistoryHead.objects.get(bleep=bleep).length == 1 + 3 * len(phones)
    assert "history intact" in check_history()


@pytest.mark.django_db(transaction=True)
@pytest.mark.hazard("HZ-19")
def test_the_migration_chains_the_history_already_stored(monkeypatch: pytest.MonkeyPatch) -> None:
    before = ("messaging", "0006_push_skipped")
    executor = MigrationExecutor(connection)
    executor.migrate([before])
    old = executor.loader.project_state([before]).apps
    nurse = old.get_model("rota", "Person").objects.create(username="nurse", job="nurse")
    stored = []
    for n in range(3):
        bleep = old.get_model("messaging", "Bleep").objects.create(
            sender=nurse, person=nurse, message=f"bleep {n}", created_at=T0
        )
        for step in range(n + 1):
            stored.append(
                old.get_model("messaging", "HistoryEntry").objects.create(
                    bleep=bleep,
                    action="renotify",
                    to_status="open",
                    at=T0 + timedelta(seconds=step),
                    detail={"step": step, "ward": "Ward 7 — east"},
                )
            )
    # Small turns, so the backfill takes more than one of each.
    backfill = importlib.import_module("messaging.migrations.0008_history_chain")
    monkeypatch.setattr(backfill, "BATCH", 2)
    monkeypatch.setattr(backfill, "UPDATES", 2)

    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())
    # The triggers were installed afresh: the teardown must still be able to empty the tables.
    allow_truncate_of_a_scratch_database(connection)

    assert sorted(HistoryHead.objects.values_list("length", flat=True)) == [1, 2, 3]
    first = HistoryEntry.objects.get(pk=stored[0].pk)
    assert first.hash == chain_hash(CHAIN_START, chained_content(first))
    assert "history intact: 3 bleeps, 6 history entries" in check_history()
