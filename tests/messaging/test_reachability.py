"""The check before every shift that its holder can be reached, and the test of one's phone."""

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from messaging.exceptions import PhoneTestNotFound
from messaging.models import (
    ContactKind,
    ContactPoint,
    Device,
    PhoneTest,
    PushMessage,
    PushSubscription,
    ShiftWarning,
    StreamEvent,
)
from messaging.services.reachability import (
    TEST_GRACE,
    check_coming_shifts,
    confirm_phone_test,
    resolve_warnings,
    start_phone_test,
)
from tests import factories
from tests.conftest import Ward
from tests.notify_service import NotifyService

pytestmark = pytest.mark.django_db
LONDON = ZoneInfo("Europe/London")


def subscribe(device: Any, now: datetime) -> None:
    PushSubscription.objects.create(
        device=device,
        endpoint=f"https://push.example/{device.pk}",
        p256dh="k",
        auth="a",
        created_at=now,
    )


def next_shift(ward: Ward, starts_in: timedelta) -> Any:
    role = factories.make_role("Night registrar", bleep_number="2400")
    return factories.make_shift(role, ward.doctor, ward.now + starts_in)


@pytest.mark.hazard("HZ-27")
def test_a_doctor_with_no_proven_phone_is_warned_before_their_shift_and_switchboard_is_told(
    ward: Ward,
) -> None:
    subscribe(ward.doctor_device, ward.now)
    shift = next_shift(ward, timedelta(minutes=50))
    # First their phone is sent a test to confirm by itself; the warning waits for it.
    assert check_coming_shifts(now=ward.now) == []
    assert PushMessage.objects.filter(phone_test__isnull=False).count() == 1
    [warning] = check_coming_shifts(now=ward.now + TEST_GRACE)
    assert warning.shift == shift
    told = StreamEvent.objects.filter(type="shift.unreachable")
    assert set(told.values_list("user_id", flat=True)) == {ward.doctor.pk, ward.operator.pk}
    assert "on call as Night registrar from" in told[0].data["warning"]["detail"]
    # Told once, however often the check runs.
    assert check_coming_shifts(now=ward.now + TEST_GRACE + timedelta(minutes=1)) == []
    assert told.count() == 2


@pytest.mark.hazard("HZ-27")
def test_a_phone_that_confirms_the_test_it_is_sent_is_never_warned_about(ward: Ward) -> None:
    subscribe(ward.doctor_device, ward.now)
    next_shift(ward, timedelta(minutes=50))
    check_coming_shifts(now=ward.now)
    test = PhoneTest.objects.get(person=ward.doctor)
    confirm_phone_test(device=ward.doctor_device, test_id=test.pk, now=ward.now)
    assert check_coming_shifts(now=ward.now + TEST_GRACE) == []
    assert not StreamEvent.objects.filter(type="shift.unreachable").exists()


def test_a_doctor_with_no_phone_to_test_is_warned_at_once(ward: Ward) -> None:
    next_shift(ward, timedelta(minutes=50))
    assert len(check_coming_shifts(now=ward.now)) == 1
    assert not PhoneTest.objects.exists()


def test_a_shift_more_than_the_lead_time_away_is_not_checked_yet(ward: Ward) -> None:
    next_shift(ward, timedelta(minutes=61))
    assert check_coming_shifts(now=ward.now) == []


@pytest.mark.hazard("HZ-27")
def test_confirming_a_phone_test_puts_the_warning_right(ward: Ward) -> None:
    subscribe(ward.doctor_device, ward.now)
    next_shift(ward, timedelta(minutes=30))
    check_coming_shifts(now=ward.now)
    later = ward.now + TEST_GRACE
    [warning] = check_coming_shifts(now=later)
    test = start_phone_test(person=ward.doctor, now=later)
    confirm_phone_test(device=ward.doctor_device, test_id=test.pk, now=later)
    warning.refresh_from_db()
    assert warning.resolved_at == later


def test_a_proven_phone_without_a_push_subscription_does_not_count(ward: Ward) -> None:
    test = start_phone_test(person=ward.doctor, now=ward.now)
    confirm_phone_test(device=ward.doctor_device, test_id=test.pk, now=ward.now)
    next_shift(ward, timedelta(minutes=30))
    assert len(check_coming_shifts(now=ward.now)) == 1


def test_a_phone_proven_over_a_week_ago_no_longer_counts(ward: Ward) -> None:
    subscribe(ward.doctor_device, ward.now)
    test = start_phone_test(person=ward.doctor, now=ward.now - timedelta(days=8))
    confirm_phone_test(device=ward.doctor_device, test_id=test.pk, now=ward.now - timedelta(days=8))
    next_shift(ward, timedelta(minutes=30))
    assert check_coming_shifts(now=ward.now) == []
    assert len(check_coming_shifts(now=ward.now + TEST_GRACE)) == 1


def test_a_verified_number_makes_a_doctor_reachable(ward: Ward, notify: NotifyService) -> None:
    ContactPoint.objects.create(
        person=ward.doctor,
        kind=ContactKind.SMS,
        address="+447700900123",
        created_at=ward.now,
        verified_at=ward.now,
    )
    next_shift(ward, timedelta(minutes=30))
    assert check_coming_shifts(now=ward.now) == []


def test_a_number_on_a_channel_this_server_does_not_send_does_not_count(ward: Ward) -> None:
    ContactPoint.objects.create(
        person=ward.doctor,
        kind=ContactKind.SMS,
        address="+447700900123",
        created_at=ward.now,
        verified_at=ward.now,
    )
    next_shift(ward, timedelta(minutes=30))
    assert len(check_coming_shifts(now=ward.now)) == 1


def test_a_warning_closes_when_its_shift_ends(ward: Ward) -> None:
    shift = next_shift(ward, timedelta(minutes=30))
    check_coming_shifts(now=ward.now)
    check_coming_shifts(now=shift.end)
    assert ShiftWarning.objects.get().resolved_at == shift.end


@pytest.mark.hazard("HZ-27")
@pytest.mark.parametrize(
    "wall_clock_start",
    [
        datetime(2026, 3, 29, 1, 30),  # the spring change: 01:00 becomes 02:00
        datetime(2026, 10, 25, 1, 30),  # the autumn change: 01:00-02:00 happens twice
    ],
)
def test_the_check_keeps_its_hour_of_lead_across_both_clock_changes(
    ward: Ward, wall_clock_start: datetime
) -> None:
    start = wall_clock_start.replace(tzinfo=LONDON).astimezone(ZoneInfo("UTC"))
    role = factories.make_role("Night registrar", bleep_number="2400")
    factories.make_shift(role, ward.doctor, start)
    assert check_coming_shifts(now=start - timedelta(minutes=61)) == []
    assert len(check_coming_shifts(now=start - timedelta(minutes=60))) == 1


def test_a_phone_test_goes_to_every_device_and_only_its_owner_confirms_it(ward: Ward) -> None:
    subscribe(ward.doctor_device, ward.now)
    test = start_phone_test(person=ward.doctor, now=ward.now)
    assert PushMessage.objects.get().phone_test == test
    assert StreamEvent.objects.filter(user=ward.doctor, type="phone.test").count() == 1
    with pytest.raises(PhoneTestNotFound):
        confirm_phone_test(device=ward.nurse_device, test_id=test.pk, now=ward.now)
    assert PhoneTest.objects.get().confirmed_at is None


def test_a_warning_closes_when_its_shift_passes_to_someone_else(ward: Ward) -> None:
    shift = next_shift(ward, timedelta(minutes=30))
    check_coming_shifts(now=ward.now)
    shift.person = ward.nurse
    shift.save(update_fields=["person"])
    check_coming_shifts(now=ward.now + timedelta(minutes=1))
    closed = ShiftWarning.objects.get(shift=shift, person=ward.doctor)
    assert closed.resolved_at == ward.now + timedelta(minutes=1)


def test_whoever_a_shift_passes_to_is_checked_afresh(ward: Ward) -> None:
    shift = next_shift(ward, timedelta(minutes=30))
    check_coming_shifts(now=ward.now)
    shift.person = ward.nurse
    shift.save(update_fields=["person"])
    [warning] = check_coming_shifts(now=ward.now + timedelta(minutes=1))
    assert warning.person == ward.nurse


@pytest.mark.hazard("HZ-28")
def test_a_proven_phone_whose_single_sign_on_ends_before_the_shift_does_not_count(
    ward: Ward,
) -> None:
    subscribe(ward.doctor_device, ward.now)
    Device.objects.filter(pk=ward.doctor_device.pk).update(
        confirmed_at=ward.now, sso_ends_at=ward.now + timedelta(minutes=40)
    )
    next_shift(ward, timedelta(minutes=50))
    check_coming_shifts(now=ward.now)
    assert len(check_coming_shifts(now=ward.now + TEST_GRACE)) == 1
    # Signed in again at the provider: the phone lasts into the shift and the warning closes.
    Device.objects.filter(pk=ward.doctor_device.pk).update(
        sso_ends_at=ward.now + timedelta(hours=20)
    )
    resolve_warnings(person_ids=[ward.doctor.pk], now=ward.now + TEST_GRACE)
    assert ShiftWarning.objects.get().resolved_at is not None


def test_a_proven_phone_whose_single_sign_on_lasts_into_the_shift_counts(ward: Ward) -> None:
    subscribe(ward.doctor_device, ward.now)
    Device.objects.filter(pk=ward.doctor_device.pk).update(
        confirmed_at=ward.now, sso_ends_at=ward.now + timedelta(minutes=55)
    )
    next_shift(ward, timedelta(minutes=50))
    assert check_coming_shifts(now=ward.now) == []
    assert check_coming_shifts(now=ward.now + TEST_GRACE) == []


@pytest.mark.hazard("HZ-28")
def test_a_warning_for_a_sign_in_ending_before_the_shift_stays_open_until_put_right(
    ward: Ward,
) -> None:
    subscribe(ward.doctor_device, ward.now)
    Device.objects.filter(pk=ward.doctor_device.pk).update(
        confirmed_at=ward.now, sso_ends_at=ward.now + timedelta(minutes=40)
    )
    next_shift(ward, timedelta(minutes=50))
    check_coming_shifts(now=ward.now)
    check_coming_shifts(now=ward.now + TEST_GRACE)
    check_coming_shifts(now=ward.now + TEST_GRACE + timedelta(minutes=1))
    assert ShiftWarning.objects.get().resolved_at is None
