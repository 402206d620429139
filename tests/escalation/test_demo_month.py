"""`seed_demo --month`: the demo hospital's past bleeps, played through the services, so the
Figures tab has something to show under `make run`."""

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from escalation.demo import DEVICE_NAME, seed_demo_month
from messaging.analytics import response_times
from messaging.models import Bleep, BleepStatus, Device
from rota.models import Person
from rota.services.demo import seed_demo_hospital

pytestmark = pytest.mark.django_db


def test_a_played_month_leaves_every_bleep_answered_or_cancelled_and_no_demo_phone_signed_in() -> (
    None
):
    now = timezone.now()
    seed_demo_hospital(today=timezone.localdate(now))
    played = seed_demo_month(now=now, days=4, per_day=4)
    assert played == Bleep.objects.count() > 0
    statuses = set(Bleep.objects.values_list("status", flat=True))
    assert statuses <= {BleepStatus.ACKNOWLEDGED, BleepStatus.CANCELLED}
    assert not Device.objects.filter(name=DEVICE_NAME, revoked_at__isnull=True).exists()
    manager = Person.objects.get(username="fiona.hale")
    groups = response_times(viewer=manager, start=now - timedelta(days=5), end=now, by="role")
    assert sum(group.bleeps for group in groups) == played
    assert any(group.acknowledged.count for group in groups)
    # Played once: a second run adds nothing.
    assert seed_demo_month(now=now, days=4, per_day=4) == 0


def test_seed_demo_plays_the_month_only_when_asked(db: None) -> None:
    call_command("seed_demo", "--url", "http://127.0.0.1:8000")
    assert not Bleep.objects.exists()
