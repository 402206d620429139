"""A month of the demo hospital's bleeps, for the Figures tab and the analytics to show
something under `make run` (`manage.py seed_demo --month`).

Every bleep goes through the services a phone's does, at its own moment in the past: sent
to whoever held the role then, its copy confirmed by a device seconds later, read, and
acknowledged minutes later; some are declined first, some go unanswered long enough to
escalate before their sender cancels them. Nothing is left open, and the devices the month
was played on are signed out at the end. Seeded, so the month is the same each time.
"""

import random
from collections.abc import Callable
from datetime import datetime, timedelta

from django.db import transaction

from escalation.services.firing import fire_due_deadlines
from escalation.services.sending import send_bleep
from messaging.actions import Action
from messaging.models import Bleep, BleepStatus, Device, Priority
from messaging.services.answers import acknowledge_bleep, decline_delivery, record_receipt
from messaging.services.bleeps import BleepDraft, cancel_bleep
from messaging.services.devices import register_device, revoke_device
from rota import demo
from rota.models import Location, Person, Role
from rota.services.demo import seed_demo_hospital, username_for

DEVICE_NAME = "demo month"
MESSAGES = [
    "Please review, NEWS 5",
    "Fluids prescription needed",
    "Chest pain, ECG done, please review",
    "Drug chart rewrite",
    "Patient deteriorating, NEWS 7",
    "Please verify a death",
    "Abnormal potassium 6.4",
    "Family asking to speak to a doctor",
]
# Bleeps come more by day than by night: a weight for each hour of the site's clock.
HOUR_WEIGHTS = [1, 1, 1, 1, 1, 1, 2, 3, 5, 6, 6, 5, 5, 5, 5, 5, 4, 4, 3, 3, 2, 2, 2, 1]


def seed_demo_month(*, now: datetime, days: int = 30, per_day: int = 6, seed: int = 1) -> int:
    """Play `days` of bleeps before `now` (about `per_day` a day); return how many. Does
    nothing if any bleep older than a day exists already (the month was played before)."""
    if Bleep.objects.filter(created_at__lt=now - timedelta(days=1)).exists():
        return 0
    for back in range(7, days + 7, 14):
        seed_demo_hospital(today=(now - timedelta(days=back)).date())
    rng = random.Random(seed)
    roles = list(
        Role.objects.filter(site__name=demo.SITE).exclude(kind=Role.Kind.SWITCHBOARD).order_by("pk")
    )
    nurses = [Person.objects.get(username=username_for(name)) for name, _ in demo.NURSES]
    wards = {ward.name: ward for ward in Location.objects.filter(site__name=demo.SITE)}
    # Each nurse bleeps from her own ward.
    ward_of = {username_for(name): wards[ward] for name, ward in demo.NURSES}
    devices: dict[int, Device] = {}

    def device_of(person: Person, at: datetime) -> Device:
        if person.pk not in devices:
            devices[person.pk], _ = register_device(person=person, device_name=DEVICE_NAME, now=at)
        return devices[person.pk]

    start = now - timedelta(days=days)
    moments = sorted(
        start
        + timedelta(
            days=day, hours=rng.choices(range(24), HOUR_WEIGHTS)[0], minutes=rng.uniform(0, 60)
        )
        for day in range(days)
        for _ in range(rng.randint(per_day // 2, per_day * 3 // 2))
    )
    played = 0
    # One transaction for the month: each service's own becomes a savepoint in it, and the
    # embedded default's SQLite commits (and syncs its file) once, not six times a bleep.
    with transaction.atomic():
        played = _play(
            moments,
            now=now,
            rng=rng,
            nurses=nurses,
            roles=roles,
            ward_of=ward_of,
            device_of=device_of,
        )
        for device in devices.values():
            revoke_device(device=device, now=now)
    return played


def _play(
    moments: list[datetime],
    *,
    now: datetime,
    rng: random.Random,
    nurses: list[Person],
    roles: list[Role],
    ward_of: dict[str, Location],
    device_of: Callable[[Person, datetime], Device],
) -> int:
    played = 0
    for at in moments:
        if at >= now - timedelta(hours=1):
            continue
        nurse = rng.choice(nurses)
        draft = BleepDraft(
            role=rng.choice(roles),
            message=rng.choice(MESSAGES),
            priority=rng.choices(list(Priority), [70, 25, 5])[0],
            location=ward_of[nurse.username],
            bed=str(rng.randint(1, 28)),
        )
        bleep = send_bleep(sender=nurse, device=device_of(nurse, at), draft=draft, now=at).bleep
        _answer(bleep, at=at, rng=rng, device_of=device_of)
        played += 1
    return played


def _answer(
    bleep: Bleep,
    *,
    at: datetime,
    rng: random.Random,
    device_of: Callable[[Person, datetime], Device],
) -> None:
    """Play the bleep's copies being confirmed, read and answered, as its recipients would."""
    copy = bleep.deliveries.select_related("recipient").first()
    if copy is None:
        return
    phone = device_of(copy.recipient, at)
    delivered = at + timedelta(seconds=rng.lognormvariate(1.2, 0.6))
    record_receipt(device=phone, bleep_id=bleep.pk, action=Action.DELIVER, now=delivered)
    opened = delivered + timedelta(seconds=rng.uniform(10, 150))
    record_receipt(device=phone, bleep_id=bleep.pk, action=Action.READ, now=opened)
    fate = rng.random()
    if fate < 0.06:
        # Declined: the wrong person, as the rota-truth studies found; escalation moves on.
        decline_delivery(device=phone, bleep_id=bleep.pk, reason="not my patient", now=opened)
        fire_due_deadlines(now=opened + timedelta(minutes=1))
    if fate < 0.16:
        # Unanswered until escalation has moved on, then cancelled by its sender.
        fire_due_deadlines(now=at + timedelta(minutes=12))
        if Bleep.objects.get(pk=bleep.pk).status == BleepStatus.OPEN:
            cancel_bleep(
                actor=bleep.sender, device=None, bleep_id=bleep.pk, now=at + timedelta(minutes=15)
            )
        return
    minutes = {"emergency": 1.5, "urgent": 5, "routine": 12}[bleep.priority]
    answered = opened + timedelta(minutes=rng.uniform(0.3, 2) * minutes)
    acknowledge_bleep(
        device=phone,
        bleep_id=bleep.pk,
        eta_minutes=rng.choice([5, 10, 15]),
        comment="",
        now=answered,
    )
