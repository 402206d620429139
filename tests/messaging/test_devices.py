"""Device tokens end after an idle time and a lifetime: at their next use and by the sweep."""

from datetime import datetime, timedelta
from typing import Any

import pytest

from messaging.exceptions import InvalidToken
from messaging.models import Device, PushSubscription
from messaging.services.devices import (
    authenticate_device,
    device_expires_at,
    expire_devices,
    sign_in_device,
)
from tests.conftest import Ward
from tests.factories import PASSWORD, make_device, sign_in_request

IDLE = timedelta(days=30)
LIFETIME = timedelta(days=90)


def subscribe(device: Device, now: datetime, name: str = "a") -> PushSubscription:
    """Give `device` a Web Push subscription as a browser would have posted it."""
    return PushSubscription.objects.create(
        device=device,
        endpoint=f"https://fcm.googleapis.com/fcm/send/{device.pk}-{name}",
        p256dh="p" * 87,
        auth="a" * 22,
        created_at=now,
    )


def signed_in(ward: Ward) -> datetime:
    """Return when the later of the ward's two devices signed in."""
    return max(ward.doctor_device.created_at, ward.nurse_device.created_at)


def use_every_day(token: str, start: datetime, days: int) -> datetime:
    """Use `token` once a day for `days` days after `start`; return the last day."""
    now = start
    for day in range(1, days + 1):
        now = start + timedelta(days=day)
        authenticate_device(token=token, now=now)
    return now


@pytest.mark.hazard("HZ-08")
def test_a_token_expires_after_thirty_days_unused(ward: Ward) -> None:
    used = ward.doctor_device.created_at + IDLE - timedelta(seconds=1)
    authenticate_device(token=ward.doctor_token, now=used)
    with pytest.raises(InvalidToken):
        authenticate_device(token=ward.doctor_token, now=used + IDLE)


def test_a_token_used_within_the_idle_time_keeps_working_and_moves_its_expiry_on(
    ward: Ward,
) -> None:
    used = ward.doctor_device.created_at + timedelta(days=29)
    device = authenticate_device(token=ward.doctor_token, now=used)
    assert device.last_seen_at == used
    assert device_expires_at(device) == used + IDLE
    assert authenticate_device(token=ward.doctor_token, now=used + timedelta(days=29))


@pytest.mark.hazard("HZ-08")
def test_a_token_expires_ninety_days_after_sign_in_however_often_it_is_used(ward: Ward) -> None:
    last = use_every_day(ward.doctor_token, ward.doctor_device.created_at, days=89)
    device = Device.objects.get(pk=ward.doctor_device.pk)
    assert device_expires_at(device) == ward.doctor_device.created_at + LIFETIME
    with pytest.raises(InvalidToken):
        authenticate_device(token=ward.doctor_token, now=last + timedelta(days=1))


def test_the_idle_time_and_lifetime_come_from_the_settings(ward: Ward, settings: Any) -> None:
    settings.DEVICE_IDLE_DAYS, settings.DEVICE_LIFETIME_DAYS = 2, 3
    day = signed_in(ward) + timedelta(days=1)
    authenticate_device(token=ward.doctor_token, now=day)
    device = authenticate_device(token=ward.nurse_token, now=day)
    assert device_expires_at(device) == ward.nurse_device.created_at + timedelta(days=3)
    with pytest.raises(InvalidToken):
        authenticate_device(token=ward.doctor_token, now=signed_in(ward) + timedelta(days=3))


def test_an_expired_token_used_again_ends_its_device_and_drops_its_push_subscriptions(
    ward: Ward,
) -> None:
    subscribe(ward.doctor_device, ward.now)
    with pytest.raises(InvalidToken):
        authenticate_device(token=ward.doctor_token, now=signed_in(ward) + IDLE)
    device = Device.objects.get(pk=ward.doctor_device.pk)
    assert device.revoked_at == ward.doctor_device.last_seen_at + IDLE
    assert not PushSubscription.objects.filter(device=device).exists()


def test_the_sweep_ends_every_expired_device_and_only_those(ward: Ward) -> None:
    subscribe(ward.doctor_device, ward.now)
    subscribe(ward.nurse_device, ward.now)
    now = use_every_day(ward.nurse_token, signed_in(ward), days=IDLE.days)
    ended = expire_devices(now=now)
    assert [device.pk for device in ended] == [ward.doctor_device.pk]
    assert Device.objects.get(pk=ward.doctor_device.pk).revoked_at is not None
    assert Device.objects.get(pk=ward.nurse_device.pk).revoked_at is None
    assert list(PushSubscription.objects.values_list("device", flat=True)) == [ward.nurse_device.pk]


def test_the_sweep_ends_a_device_at_its_lifetime_however_recently_it_was_used(
    ward: Ward,
) -> None:
    now = use_every_day(ward.doctor_token, signed_in(ward), days=LIFETIME.days - 1)
    Device.objects.filter(pk=ward.nurse_device.pk).update(last_seen_at=now)
    assert expire_devices(now=now) == []
    Device.objects.filter(pk=ward.doctor_device.pk).update(last_seen_at=now + timedelta(days=1))
    ended = expire_devices(now=now + timedelta(days=1))
    assert ward.doctor_device.pk in [device.pk for device in ended]


def test_a_device_already_signed_out_is_not_ended_again_by_the_sweep(ward: Ward) -> None:
    assert len(expire_devices(now=signed_in(ward) + IDLE)) == 2
    assert expire_devices(now=signed_in(ward) + IDLE + timedelta(days=1)) == []


def test_signing_in_with_end_other_sessions_signs_out_every_other_device(ward: Ward) -> None:
    tablet, _ = make_device(ward.doctor, "tablet")
    subscribe(tablet, ward.now)
    device, token = sign_in_device(
        username=ward.doctor.username,
        password=PASSWORD,
        device_name="new phone",
        request=sign_in_request(),
        now=ward.now,
        end_other_sessions=True,
    )
    live = Device.objects.filter(user=ward.doctor, revoked_at__isnull=True)
    assert list(live) == [device]
    assert not PushSubscription.objects.filter(device=tablet).exists()
    assert Device.objects.get(pk=ward.nurse_device.pk).revoked_at is None
    assert authenticate_device(token=token, now=ward.now) == device


def test_signing_in_without_end_other_sessions_leaves_the_other_devices_signed_in(
    ward: Ward,
) -> None:
    sign_in_device(
        username=ward.doctor.username,
        password=PASSWORD,
        device_name="tablet",
        request=sign_in_request(),
        now=ward.now,
    )
    assert authenticate_device(token=ward.doctor_token, now=ward.now) == ward.doctor_device
