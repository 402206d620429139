"""Every (state, action) pair of the delivery and bleep transition tables."""

from itertools import pairwise, product

import pytest

from messaging.exceptions import IllegalTransition
from messaging.models import BleepStatus, DeliveryStatus
from messaging.states import BLEEP_TRANSITIONS, DELIVERY_TRANSITIONS, next_status

# Every action either table knows, so a state added to a model meets every action.
ACTIONS = sorted({action for _, action in DELIVERY_TRANSITIONS} | {a for _, a in BLEEP_TRANSITIONS})
DELIVERY_PAIRS = list(product(DeliveryStatus, ACTIONS))
BLEEP_PAIRS = list(product(BleepStatus, ACTIONS))
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


def test_the_actions_cover_receipts_answers_taking_on_and_cancelling() -> None:
    assert ACTIONS == ["acknowledge", "cancel", "decline", "deliver", "handle", "read"]


@pytest.mark.parametrize(("state", "action"), DELIVERY_PAIRS, ids=pair_id)
def test_every_delivery_state_and_action_moves_by_the_table_or_is_refused(
    state: DeliveryStatus, action: str
) -> None:
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
    state: BleepStatus, action: str
) -> None:
    if (state, action) in BLEEP_TRANSITIONS:
        assert next_status(BLEEP_TRANSITIONS, state, action) == BLEEP_TRANSITIONS[(state, action)]
    else:
        with pytest.raises(IllegalTransition) as refused:
            next_status(BLEEP_TRANSITIONS, state, action)
        assert refused.value.current == state.value
        assert refused.value.action == action


@pytest.mark.parametrize(("move", "after"), DELIVERY_TRANSITIONS.items(), ids=pair_id)
def test_no_delivery_move_goes_backwards_or_stands_still(
    move: tuple[DeliveryStatus, str], after: DeliveryStatus
) -> None:
    state, _action = move

    assert DELIVERY_ORDER.index(after) > DELIVERY_ORDER.index(state)


def test_the_delivery_order_names_every_delivery_state() -> None:
    assert sorted(DELIVERY_ORDER) == sorted(DeliveryStatus)
    assert all(a != b for a, b in pairwise(DELIVERY_ORDER))


@pytest.mark.parametrize("action", ACTIONS)
def test_an_acknowledged_delivery_is_final(action: str) -> None:
    with pytest.raises(IllegalTransition):
        next_status(DELIVERY_TRANSITIONS, DeliveryStatus.ACKNOWLEDGED, action)


@pytest.mark.parametrize("action", ACTIONS)
@pytest.mark.hazard("HZ-09")
def test_an_acknowledged_bleep_is_final(action: str) -> None:
    with pytest.raises(IllegalTransition):
        next_status(BLEEP_TRANSITIONS, BleepStatus.ACKNOWLEDGED, action)


@pytest.mark.parametrize("state", ANSWERABLE, ids=str)
def test_acknowledging_a_delivery_from_any_earlier_state_lands_on_acknowledged(
    state: DeliveryStatus,
) -> None:
    assert next_status(DELIVERY_TRANSITIONS, state, "acknowledge") == DeliveryStatus.ACKNOWLEDGED


def test_a_delivery_goes_sent_delivered_read_acknowledged_one_receipt_at_a_time() -> None:
    state = DeliveryStatus.SENT
    seen = [state]
    for action in ["deliver", "read", "acknowledge"]:
        state = next_status(DELIVERY_TRANSITIONS, state, action)
        seen.append(state)

    assert seen == ["sent", "delivered", "read", "acknowledged"]


def test_an_open_bleep_is_acknowledged_by_acknowledge() -> None:
    assert next_status(BLEEP_TRANSITIONS, BleepStatus.OPEN, "acknowledge") == "acknowledged"


def test_an_action_neither_table_knows_is_refused() -> None:
    with pytest.raises(IllegalTransition) as refused:
        next_status(DELIVERY_TRANSITIONS, DeliveryStatus.SENT, "explode")

    assert (refused.value.current, refused.value.action) == ("sent", "explode")


@pytest.mark.parametrize("action", ACTIONS)
def test_a_cancelled_delivery_and_a_cancelled_bleep_are_final(action: str) -> None:
    with pytest.raises(IllegalTransition):
        next_status(DELIVERY_TRANSITIONS, DeliveryStatus.CANCELLED, action)
    with pytest.raises(IllegalTransition):
        next_status(BLEEP_TRANSITIONS, BleepStatus.CANCELLED, action)


@pytest.mark.parametrize("state", ANSWERABLE, ids=str)
def test_an_unanswered_delivery_can_be_declined_or_cancelled(state: DeliveryStatus) -> None:
    assert next_status(DELIVERY_TRANSITIONS, state, "decline") == DeliveryStatus.DECLINED
    assert next_status(DELIVERY_TRANSITIONS, state, "cancel") == DeliveryStatus.CANCELLED


def test_a_declined_delivery_cannot_then_be_acknowledged_but_can_be_cancelled() -> None:
    with pytest.raises(IllegalTransition):
        next_status(DELIVERY_TRANSITIONS, DeliveryStatus.DECLINED, "acknowledge")
    assert (
        next_status(DELIVERY_TRANSITIONS, DeliveryStatus.DECLINED, "cancel")
        == DeliveryStatus.CANCELLED
    )


@pytest.mark.parametrize("state", ANSWERABLE, ids=str)
@pytest.mark.hazard("HZ-12")
def test_switchboard_takes_on_an_unanswered_copy_and_the_bleep_stays_open(
    state: DeliveryStatus,
) -> None:
    assert next_status(DELIVERY_TRANSITIONS, state, "handle") == DeliveryStatus.HANDLING
    assert next_status(BLEEP_TRANSITIONS, BleepStatus.OPEN, "handle") == BleepStatus.OPEN


@pytest.mark.parametrize("action", ["deliver", "read", "decline", "handle"])
@pytest.mark.hazard("HZ-12")
def test_a_copy_switchboard_is_handling_takes_no_receipt_decline_or_second_take_on(
    action: str,
) -> None:
    with pytest.raises(IllegalTransition) as refused:
        next_status(DELIVERY_TRANSITIONS, DeliveryStatus.HANDLING, action)
    assert str(refused.value) == f"cannot {action} when handling"


def test_a_copy_switchboard_is_handling_can_still_be_cancelled_or_acknowledged() -> None:
    # Acknowledged only on a bleep addressed to switchboard: the service says who may.
    assert (
        next_status(DELIVERY_TRANSITIONS, DeliveryStatus.HANDLING, "cancel")
        == DeliveryStatus.CANCELLED
    )
    assert (
        next_status(DELIVERY_TRANSITIONS, DeliveryStatus.HANDLING, "acknowledge")
        == DeliveryStatus.ACKNOWLEDGED
    )


@pytest.mark.parametrize("state", [BleepStatus.ACKNOWLEDGED, BleepStatus.CANCELLED], ids=str)
@pytest.mark.hazard("HZ-12")
def test_a_bleep_that_is_over_cannot_be_taken_on(state: BleepStatus) -> None:
    with pytest.raises(IllegalTransition) as refused:
        next_status(BLEEP_TRANSITIONS, state, "handle")
    assert refused.value.current == state.value
