"""Every (state, action) pair of the delivery, bleep and push transition tables."""

from itertools import pairwise, product

import pytest

from messaging.actions import Action, PushAction
from messaging.exceptions import IllegalTransition
from messaging.models import BleepStatus, DeliveryStatus, PushStatus
from messaging.states import (
    BLEEP_TRANSITIONS,
    DELIVERY_TRANSITIONS,
    PUSH_TRANSITIONS,
    allows,
    moves_by,
    next_status,
)

# Every action there is, so a state or an action added later meets every other.
DELIVERY_PAIRS = list(product(DeliveryStatus, Action))
BLEEP_PAIRS = list(product(BleepStatus, Action))
PUSH_PAIRS = list(product(PushStatus, PushAction))
# What happens to a bleep while it is open and leaves it open: only while it is open.
WHILE_OPEN = [
    Action.DECLINE,
    Action.HANDLE,
    Action.ESCALATE,
    Action.NOTIFY_SWITCHBOARD,
    Action.BROADCAST_TEAM,
    Action.HANDOVER,
    Action.REDIRECT,
    Action.RENOTIFY,
    Action.SKIP,
    Action.FIRE,
    Action.PUSH,
]
# A delivery only ever moves forward along this line.
DELIVERY_ORDER = [
    DeliveryStatus.SENT,
    DeliveryStatus.DELIVERED,
    DeliveryStatus.READ,
    DeliveryStatus.HANDLING,
    DeliveryStatus.DECLINED,
    DeliveryStatus.ACKNOWLEDGED,
    DeliveryStatus.CANCELLED,
]
ANSWERABLE = [DeliveryStatus.SENT, DeliveryStatus.DELIVERED, DeliveryStatus.READ]


def pair_id(value: object) -> str:
    if isinstance(value, tuple):
        return "-".join(str(part) for part in value)
    return str(value)


def test_a_copy_moves_by_receipts_answers_taking_on_and_cancelling() -> None:
    assert {action for _, action in DELIVERY_TRANSITIONS} == {
        Action.DELIVER,
        Action.READ,
        Action.ACKNOWLEDGE,
        Action.DECLINE,
        Action.HANDLE,
        Action.CANCEL,
    }


def test_every_action_but_sending_and_receipts_is_in_the_bleep_table() -> None:
    # Sending makes the bleep; a receipt is about one copy and comes whatever the bleep's state.
    in_table = {action for _, action in BLEEP_TRANSITIONS}

    assert set(Action) - in_table == {Action.SEND, Action.DELIVER, Action.READ}


def test_the_actions_keep_the_values_the_history_has_always_stored() -> None:
    assert sorted(Action) == [
        "acknowledge",
        "broadcast_team",
        "cancel",
        "decline",
        "deliver",
        "escalate",
        "fallback",
        "fire",
        "handle",
        "handover",
        "notify_switchboard",
        "push",
        "read",
        "redirect",
        "renotify",
        "reply",
        "send",
        "skip",
    ]


@pytest.mark.parametrize(("state", "action"), DELIVERY_PAIRS, ids=pair_id)
def test_every_delivery_state_and_action_moves_by_the_table_or_is_refused(
    state: DeliveryStatus, action: Action
) -> None:
    assert allows(DELIVERY_TRANSITIONS, state, action) == ((state, action) in DELIVERY_TRANSITIONS)
    if (state, action) in DELIVERY_TRANSITIONS:
        assert (
            next_status(DELIVERY_TRANSITIONS, state, action)
            == DELIVERY_TRANSITIONS[(state, action)]
        )
    else:
        with pytest.raises(IllegalTransition) as refused:
            next_status(DELIVERY_TRANSITIONS, state, action)
        assert refused.value.current == state.value
        assert refused.value.action == action
        assert str(refused.value) == f"cannot {action} when {state.value}"


@pytest.mark.parametrize(("state", "action"), BLEEP_PAIRS, ids=pair_id)
def test_every_bleep_state_and_action_moves_by_the_table_or_is_refused(
    state: BleepStatus, action: Action
) -> None:
    assert allows(BLEEP_TRANSITIONS, state, action) == ((state, action) in BLEEP_TRANSITIONS)
    if (state, action) in BLEEP_TRANSITIONS:
        assert next_status(BLEEP_TRANSITIONS, state, action) == BLEEP_TRANSITIONS[(state, action)]
    else:
        with pytest.raises(IllegalTransition) as refused:
            next_status(BLEEP_TRANSITIONS, state, action)
        assert refused.value.current == state.value
        assert refused.value.action == action


@pytest.mark.parametrize(("move", "after"), DELIVERY_TRANSITIONS.items(), ids=pair_id)
def test_no_delivery_move_goes_backwards_or_stands_still(
    move: tuple[DeliveryStatus, Action], after: DeliveryStatus
) -> None:
    state, _action = move

    assert DELIVERY_ORDER.index(after) > DELIVERY_ORDER.index(state)


def test_the_delivery_order_names_every_delivery_state() -> None:
    assert sorted(DELIVERY_ORDER) == sorted(DeliveryStatus)
    assert all(a != b for a, b in pairwise(DELIVERY_ORDER))


@pytest.mark.parametrize("action", Action)
def test_an_acknowledged_delivery_is_final(action: Action) -> None:
    with pytest.raises(IllegalTransition):
        next_status(DELIVERY_TRANSITIONS, DeliveryStatus.ACKNOWLEDGED, action)


@pytest.mark.parametrize("action", Action)
@pytest.mark.hazard("HZ-09")
def test_an_acknowledged_bleep_is_final(action: Action) -> None:
    # Only its thread goes on ("10 min, start fluids"), and a reply leaves it acknowledged.
    if action == Action.REPLY:
        assert next_status(BLEEP_TRANSITIONS, BleepStatus.ACKNOWLEDGED, action) == "acknowledged"
        return
    with pytest.raises(IllegalTransition):
        next_status(BLEEP_TRANSITIONS, BleepStatus.ACKNOWLEDGED, action)


@pytest.mark.parametrize("state", ANSWERABLE, ids=str)
def test_acknowledging_a_delivery_from_any_earlier_state_lands_on_acknowledged(
    state: DeliveryStatus,
) -> None:
    assert (
        next_status(DELIVERY_TRANSITIONS, state, Action.ACKNOWLEDGE) == DeliveryStatus.ACKNOWLEDGED
    )


def test_a_delivery_goes_sent_delivered_read_acknowledged_one_receipt_at_a_time() -> None:
    state = DeliveryStatus.SENT
    seen = [state]
    for action in [Action.DELIVER, Action.READ, Action.ACKNOWLEDGE]:
        state = next_status(DELIVERY_TRANSITIONS, state, action)
        seen.append(state)

    assert seen == ["sent", "delivered", "read", "acknowledged"]


def test_an_open_bleep_is_acknowledged_by_acknowledge() -> None:
    assert next_status(BLEEP_TRANSITIONS, BleepStatus.OPEN, Action.ACKNOWLEDGE) == "acknowledged"


def test_an_action_neither_table_knows_is_refused() -> None:
    with pytest.raises(IllegalTransition) as refused:
        next_status(DELIVERY_TRANSITIONS, DeliveryStatus.SENT, Action.SEND)

    assert (refused.value.current, refused.value.action) == ("sent", "send")


@pytest.mark.parametrize("action", Action)
def test_a_cancelled_delivery_and_a_cancelled_bleep_are_final(action: Action) -> None:
    with pytest.raises(IllegalTransition):
        next_status(DELIVERY_TRANSITIONS, DeliveryStatus.CANCELLED, action)
    with pytest.raises(IllegalTransition):
        next_status(BLEEP_TRANSITIONS, BleepStatus.CANCELLED, action)


@pytest.mark.parametrize("state", ANSWERABLE, ids=str)
def test_an_unanswered_delivery_can_be_declined_or_cancelled(state: DeliveryStatus) -> None:
    assert next_status(DELIVERY_TRANSITIONS, state, Action.DECLINE) == DeliveryStatus.DECLINED
    assert next_status(DELIVERY_TRANSITIONS, state, Action.CANCEL) == DeliveryStatus.CANCELLED


def test_a_declined_delivery_cannot_then_be_acknowledged_but_can_be_cancelled() -> None:
    with pytest.raises(IllegalTransition):
        next_status(DELIVERY_TRANSITIONS, DeliveryStatus.DECLINED, Action.ACKNOWLEDGE)
    assert (
        next_status(DELIVERY_TRANSITIONS, DeliveryStatus.DECLINED, Action.CANCEL)
        == DeliveryStatus.CANCELLED
    )


@pytest.mark.parametrize("state", ANSWERABLE, ids=str)
@pytest.mark.hazard("HZ-12")
def test_switchboard_takes_on_an_unanswered_copy_and_the_bleep_stays_open(
    state: DeliveryStatus,
) -> None:
    assert next_status(DELIVERY_TRANSITIONS, state, Action.HANDLE) == DeliveryStatus.HANDLING
    assert next_status(BLEEP_TRANSITIONS, BleepStatus.OPEN, Action.HANDLE) == BleepStatus.OPEN


@pytest.mark.parametrize("action", [Action.DELIVER, Action.READ, Action.DECLINE, Action.HANDLE])
@pytest.mark.hazard("HZ-12")
def test_a_copy_switchboard_is_handling_takes_no_receipt_decline_or_second_take_on(
    action: Action,
) -> None:
    with pytest.raises(IllegalTransition) as refused:
        next_status(DELIVERY_TRANSITIONS, DeliveryStatus.HANDLING, action)
    assert str(refused.value) == f"cannot {action} when handling"


def test_a_copy_switchboard_is_handling_can_still_be_cancelled_or_acknowledged() -> None:
    # Acknowledged only on a bleep addressed to switchboard: the service says who may.
    assert (
        next_status(DELIVERY_TRANSITIONS, DeliveryStatus.HANDLING, Action.CANCEL)
        == DeliveryStatus.CANCELLED
    )
    assert (
        next_status(DELIVERY_TRANSITIONS, DeliveryStatus.HANDLING, Action.ACKNOWLEDGE)
        == DeliveryStatus.ACKNOWLEDGED
    )


@pytest.mark.parametrize("state", [BleepStatus.ACKNOWLEDGED, BleepStatus.CANCELLED], ids=str)
@pytest.mark.hazard("HZ-12")
def test_a_bleep_that_is_over_cannot_be_taken_on(state: BleepStatus) -> None:
    with pytest.raises(IllegalTransition) as refused:
        next_status(BLEEP_TRANSITIONS, state, Action.HANDLE)
    assert refused.value.current == state.value


@pytest.mark.parametrize("action", WHILE_OPEN)
def test_what_leaves_a_bleep_open_happens_only_while_it_is_open(action: Action) -> None:
    assert next_status(BLEEP_TRANSITIONS, BleepStatus.OPEN, action) == BleepStatus.OPEN
    assert not allows(BLEEP_TRANSITIONS, BleepStatus.ACKNOWLEDGED, action)
    assert not allows(BLEEP_TRANSITIONS, BleepStatus.CANCELLED, action)


@pytest.mark.parametrize(("state", "action"), PUSH_PAIRS, ids=pair_id)
def test_every_push_state_and_action_moves_by_the_table_or_is_refused(
    state: PushStatus, action: PushAction
) -> None:
    if (state, action) in PUSH_TRANSITIONS:
        assert next_status(PUSH_TRANSITIONS, state, action) == PUSH_TRANSITIONS[(state, action)]
    else:
        with pytest.raises(IllegalTransition) as refused:
            next_status(PUSH_TRANSITIONS, state, action)
        assert (refused.value.current, refused.value.action) == (state.value, action.value)


def test_forgetting_a_subscription_moves_only_its_pending_pushes_to_gone() -> None:
    assert moves_by(PUSH_TRANSITIONS, PushAction.FORGET) == {PushStatus.PENDING: PushStatus.GONE}
