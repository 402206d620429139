"""A hypothesis state machine over the bleep lifecycle: no lost event, one winner, nothing
after cancel."""

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.db import transaction
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from escalation.services.sending import send_bleep
from messaging.exceptions import MessagingError
from messaging.models import Bleep, BleepStatus, Device, StreamEvent
from messaging.selectors import events_after
from messaging.services.answers import (
    acknowledge_bleep,
    decline_delivery,
    record_receipt,
    reply_to_bleep,
)
from messaging.services.bleeps import cancel_bleep
from rota.models import Person
from tests import factories

T0 = datetime(2026, 10, 24, 22, 0, tzinfo=UTC)
TICK = timedelta(seconds=7)


class BleepLifecycle(RuleBasedStateMachine):
    """A nurse and two registrars holding one role, doing things in any order."""

    @initialize()
    def build_the_ward(self) -> None:
        self.atomic = transaction.atomic()
        self.atomic.__enter__()
        self.now = T0
        switchboard = factories.make_role("Switchboard", kind="switchboard")
        role = factories.make_role(fallback=switchboard)
        self.role = role
        self.nurse = factories.make_person("nurse", job=Person.Job.NURSE)
        self.doctors = [factories.make_person(f"doctor.{n}") for n in range(2)]
        for doctor in self.doctors:
            factories.make_shift(role, doctor, T0 - timedelta(hours=1), hours=12)
        self.devices: dict[int, Device] = {
            person.pk: factories.make_device(person)[0] for person in [self.nurse, *self.doctors]
        }
        self.bleeps: list[int] = []
        self.cancelled: dict[int, int] = {}  # bleep id -> highest event id when it was cancelled
        # What each device has seen, as a phone would keep it: the last seq, and event ids.
        self.seen: dict[int, int] = {person_id: 0 for person_id in self.devices}

    def teardown(self) -> None:
        transaction.set_rollback(True)
        self.atomic.__exit__(None, None, None)

    def tick(self) -> datetime:
        self.now += TICK
        return self.now

    def attempt(self, service: Any, **kwargs: Any) -> None:
        try:
            with transaction.atomic():
                service(now=self.tick(), **kwargs)
        except MessagingError:
            pass  # refused moves are part of the game; the invariants say what must hold

    @rule()
    def nurse_sends(self) -> None:
        sent = send_bleep(
            sender=self.nurse,
            device=self.devices[self.nurse.pk],
            draft=factories.draft(self.role),
            now=self.tick(),
        )
        self.bleeps.append(sent.bleep.pk)

    @precondition(lambda self: self.bleeps)
    @rule(
        which=st.integers(0, 1),
        pick=st.integers(0, 99),
        action=st.sampled_from(["deliver", "read"]),
    )
    def doctor_sends_a_receipt(self, which: int, pick: int, action: str) -> None:
        self.attempt(
            record_receipt,
            device=self.devices[self.doctors[which].pk],
            bleep_id=self.bleeps[pick % len(self.bleeps)],
            action=action,
        )

    @precondition(lambda self: self.bleeps)
    @rule(which=st.integers(0, 1), pick=st.integers(0, 99))
    def doctor_acknowledges(self, which: int, pick: int) -> None:
        self.attempt(
            acknowledge_bleep,
            device=self.devices[self.doctors[which].pk],
            bleep_id=self.bleeps[pick % len(self.bleeps)],
            eta_minutes=5,
            comment="",
        )

    @precondition(lambda self: self.bleeps)
    @rule(which=st.integers(0, 1), pick=st.integers(0, 99))
    def doctor_declines(self, which: int, pick: int) -> None:
        self.attempt(
            decline_delivery,
            device=self.devices[self.doctors[which].pk],
            bleep_id=self.bleeps[pick % len(self.bleeps)],
            reason="in theatre",
        )

    @precondition(lambda self: self.bleeps)
    @rule(who=st.integers(0, 2), pick=st.integers(0, 99))
    def someone_replies(self, who: int, pick: int) -> None:
        person = [self.nurse, *self.doctors][who]
        self.attempt(
            reply_to_bleep,
            device=self.devices[person.pk],
            bleep_id=self.bleeps[pick % len(self.bleeps)],
            text="call me",
        )

    @precondition(lambda self: self.bleeps)
    @rule(pick=st.integers(0, 99))
    def nurse_cancels(self, pick: int) -> None:
        bleep_id = self.bleeps[pick % len(self.bleeps)]
        self.attempt(
            cancel_bleep, actor=self.nurse, device=self.devices[self.nurse.pk], bleep_id=bleep_id
        )
        if Bleep.objects.get(pk=bleep_id).status == BleepStatus.CANCELLED:
            newest = StreamEvent.objects.order_by("-pk").values_list("pk", flat=True).first()
            self.cancelled.setdefault(bleep_id, newest or 0)

    @rule(who=st.integers(0, 2))
    def a_phone_reconnects_and_catches_up(self, who: int) -> None:
        person_id = [self.nurse, *self.doctors][who].pk
        missed = events_after(person_id, self.seen[person_id])
        if missed:
            assert [e.seq for e in missed] == list(
                range(self.seen[person_id] + 1, self.seen[person_id] + 1 + len(missed))
            ), "a reconnecting phone gets every event it missed, in order, once"
            self.seen[person_id] = missed[-1].seq

    @invariant()
    def no_event_is_lost_or_numbered_twice(self) -> None:
        for person_id in self.devices:
            seqs = list(
                StreamEvent.objects.filter(user_id=person_id)
                .order_by("seq")
                .values_list("seq", flat=True)
            )
            assert seqs == list(range(1, len(seqs) + 1))

    @invariant()
    def at_most_one_acknowledgement_wins(self) -> None:
        for bleep in Bleep.objects.filter(pk__in=self.bleeps):
            acknowledged = bleep.deliveries.filter(status="acknowledged").count()
            assert acknowledged <= 1
            assert (bleep.status == BleepStatus.ACKNOWLEDGED) == (acknowledged == 1)

    @invariant()
    def nothing_happens_after_cancel(self) -> None:
        for bleep_id, last_event in self.cancelled.items():
            later = StreamEvent.objects.filter(pk__gt=last_event, data__bleep_id=bleep_id)
            assert not later.exists()
            assert Bleep.objects.get(pk=bleep_id).status == BleepStatus.CANCELLED


@pytest.mark.django_db
def test_the_bleep_lifecycle_keeps_its_promises(django_db_blocker: Any) -> None:
    machine = BleepLifecycle.TestCase
    machine.settings = settings(
        max_examples=25,
        stateful_step_count=25,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    machine().runTest()
