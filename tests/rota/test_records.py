"""The records service: rules checked under concurrency, and the audit trail kept."""

import threading
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection

from rota.exceptions import InvalidRotaData
from rota.models import Person, Role, RotaChange, Shift
from rota.services.records import save_record
from tests import factories

MONDAY_NOON = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


def book_in_thread(
    role: Role, person: Person, offset: timedelta, start: threading.Barrier, outcomes: list[object]
) -> None:
    """Book `person` on `role` once `start` releases both threads; record result or error."""
    try:
        start.wait(timeout=10)
        shift = Shift(
            role=role,
            person=person,
            start=MONDAY_NOON + offset,
            end=MONDAY_NOON + offset + timedelta(hours=12),
        )
        manager = Person.objects.get(username=f"rota.manager.{role.site_id}")
        outcomes.append(save_record(actor=manager, instance=shift, changes={}, now=MONDAY_NOON))
    except Exception as error:  # recorded and asserted on below, never lost
        outcomes.append(error)
    finally:
        connection.close()


@pytest.mark.django_db(transaction=True)
@pytest.mark.hazard("HZ-01")
def test_two_managers_booking_one_person_at_once_on_overlapping_shifts_give_one_shift() -> None:
    registrar = factories.make_role("Medical Registrar on call")
    surgeon = factories.make_role("Surgical Registrar")
    doctor = factories.make_person("omar.haddad")
    factories.site_manager(registrar.site)
    start = threading.Barrier(2)
    outcomes: list[object] = []
    threads = [
        threading.Thread(target=book_in_thread, args=(role, doctor, offset, start, outcomes))
        for role, offset in [(registrar, timedelta(0)), (surgeon, timedelta(hours=6))]
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert not any(thread.is_alive() for thread in threads)
    assert sorted(type(o).__name__ for o in outcomes) == ["InvalidRotaData", "Shift"], outcomes
    assert Shift.objects.filter(person=doctor).count() == 1
    assert RotaChange.objects.filter(model="Shift").count() == 1


@pytest.mark.django_db
def test_a_refused_change_leaves_no_audit_row_and_no_change() -> None:
    shift = factories.make_shift(factories.make_role(), factories.make_person("a.b"), MONDAY_NOON)
    with pytest.raises(InvalidRotaData):
        save_record(
            actor=factories.site_manager(shift.role.site),
            instance=shift,
            changes={"end": MONDAY_NOON},
            now=MONDAY_NOON,
        )
    shift.refresh_from_db()
    assert shift.end == MONDAY_NOON + timedelta(hours=12)
    assert not RotaChange.objects.exists()
