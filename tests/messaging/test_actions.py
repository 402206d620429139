"""The actions by name: each has its event type and its words, and a service called with an
action its table refuses changes nothing."""

import pytest

from escalation.models import StepAction
from messaging import events
from messaging.actions import (
    CHANNEL_WORDS,
    EVENT_TYPES,
    HISTORY_WORDS,
    NEXT_STEP_WORDS,
    STATUS_WORDS,
    WIDENINGS,
    WORDS,
    Action,
)
from messaging.exceptions import IllegalTransition
from messaging.models import Bleep, BleepStatus, ContactKind, DeliveryStatus, HistoryEntry
from messaging.services.answers import acknowledge_bleep, reply_to_bleep
from messaging.services.bleeps import cancel_bleep, create_bleep, renotify_bleep, widen_bleep
from rota.models import Person
from tests.conftest import Ward
from tests.factories import draft, make_person

# The actions that tell nobody by themselves: what they lead to does.
# A text or pager message tells the person it reaches, and the bleep's history, no one else.
SILENT = {Action.SKIP, Action.FIRE, Action.PUSH, Action.FALLBACK}


def send(ward: Ward) -> Bleep:
    return create_bleep(
        sender=ward.nurse, device=ward.nurse_device, draft=draft(ward.role), now=ward.now
    )


def test_every_action_has_an_event_type_or_is_named_as_telling_nobody() -> None:
    assert set(EVENT_TYPES) == set(Action)
    assert {action for action, kind in EVENT_TYPES.items() if kind is None} == SILENT


@pytest.mark.parametrize("action", sorted(set(Action) - SILENT))
def test_every_event_type_is_dotted_under_the_bleep_or_its_copy(action: Action) -> None:
    kind = EVENT_TYPES[action]

    assert kind is not None
    assert kind.split(".")[0] in {"bleep", "delivery"}


def test_each_widening_sends_its_own_event_and_an_escalation_step_an_escalation() -> None:
    assert {action: EVENT_TYPES[action] for action in WIDENINGS} == {
        Action.ESCALATE: "bleep.escalated",
        Action.NOTIFY_SWITCHBOARD: "bleep.escalated",
        Action.BROADCAST_TEAM: "bleep.escalated",
        Action.HANDOVER: "bleep.handed_over",
        Action.REDIRECT: "bleep.redirected",
    }


def test_every_action_has_words_for_the_history() -> None:
    assert set(HISTORY_WORDS) == set(Action)
    assert all(words.strip() for words in HISTORY_WORDS.values())


def test_every_escalation_step_is_an_action_with_words_for_what_comes_next() -> None:
    assert {Action(step) for step in StepAction} == set(NEXT_STEP_WORDS)


def test_every_status_of_a_bleep_or_a_copy_has_words() -> None:
    assert set(STATUS_WORDS) == set(BleepStatus) | set(DeliveryStatus)


def test_the_words_served_to_the_app_are_the_mappings_beside_the_enum() -> None:
    assert WORDS == {
        "actions": {action.value: words for action, words in HISTORY_WORDS.items()},
        "steps": {action.value: words for action, words in NEXT_STEP_WORDS.items()},
        "statuses": {str(status): words for status, words in STATUS_WORDS.items()},
        "jobs": {str(job): str(words) for job, words in Person.Job.choices},
        "channels": CHANNEL_WORDS,
    }
    assert WORDS["actions"]["handover"] == "handed over to the next shift"
    # Every way out a history entry may name: the push, and each kind of number.
    assert set(CHANNEL_WORDS) == {"push", *(str(kind) for kind in ContactKind)}


def test_an_event_builder_takes_its_type_from_the_actions_mapping(ward: Ward) -> None:
    bleep = send(ward)

    assert events.bleep_created(bleep)["type"] == EVENT_TYPES[Action.SEND]
    assert events.bleep_cancelled(bleep, by=ward.nurse)["type"] == "bleep.cancelled"


def test_widening_by_an_action_that_brings_nobody_in_is_refused(ward: Ward) -> None:
    bleep = send(ward)
    consultant = make_person("ines.costa")

    with pytest.raises(ValueError):
        widen_bleep(bleep=bleep, people=[(consultant, None)], action=Action.CANCEL, now=ward.now)
    assert not bleep.deliveries.filter(recipient=consultant).exists()


@pytest.mark.parametrize("action", sorted(WIDENINGS))
def test_a_cancelled_bleep_takes_nobody_new_whatever_the_widening(
    ward: Ward, action: Action
) -> None:
    bleep = send(ward)
    cancel_bleep(actor=ward.nurse, device=ward.nurse_device, bleep_id=bleep.pk, now=ward.now)
    bleep.refresh_from_db()
    consultant = make_person("ines.costa")

    with pytest.raises(IllegalTransition) as refused:
        widen_bleep(bleep=bleep, people=[(consultant, None)], action=action, now=ward.now)

    assert str(refused.value) == f"cannot {action} when cancelled"
    assert not bleep.deliveries.filter(recipient=consultant).exists()


def test_an_acknowledged_bleep_is_not_reminded_and_its_history_says_nothing_more(
    ward: Ward,
) -> None:
    bleep = send(ward)
    acknowledge_bleep(
        device=ward.doctor_device, bleep_id=bleep.pk, eta_minutes=5, comment="", now=ward.now
    )
    bleep.refresh_from_db()
    entries = HistoryEntry.objects.filter(bleep=bleep).count()

    with pytest.raises(IllegalTransition):
        renotify_bleep(bleep=bleep, step=1, now=ward.now)

    assert HistoryEntry.objects.filter(bleep=bleep).count() == entries


def test_the_thread_goes_on_after_an_acknowledgement_but_not_after_a_cancel(ward: Ward) -> None:
    answered, withdrawn = send(ward), send(ward)
    acknowledge_bleep(
        device=ward.doctor_device, bleep_id=answered.pk, eta_minutes=5, comment="", now=ward.now
    )
    cancel_bleep(actor=ward.nurse, device=ward.nurse_device, bleep_id=withdrawn.pk, now=ward.now)

    reply = reply_to_bleep(
        device=ward.nurse_device, bleep_id=answered.pk, text="bed 4 now", now=ward.now
    )
    with pytest.raises(IllegalTransition) as refused:
        reply_to_bleep(device=ward.nurse_device, bleep_id=withdrawn.pk, text="?", now=ward.now)

    assert reply.bleep_id == answered.pk
    assert str(refused.value) == "cannot reply when cancelled"
