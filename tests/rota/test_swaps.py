"""Swaps between colleagues and cover for sickness, from the transition table to the rota."""

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from itertools import product
from zoneinfo import ZoneInfo

import pytest

from rota.exceptions import IllegalSwapMove, InvalidRotaData, NotYourMove, SwapNotFound
from rota.models import Person, Role, RotaChange, RotaManagerScope, Shift, SwapRequest, Team
from rota.selectors import holders_at, resolve_role
from rota.services.swaps import (
    SWAP_TRANSITIONS,
    accept_swap,
    approve_swap,
    cancel_swap,
    cover_shift,
    decline_swap,
    next_swap_status,
    reject_swap,
    request_swap,
)
from rota.wallclock import to_utc
from tests.factories import make_person, make_role, make_shift, make_team

Status = SwapRequest.Status
NOW = datetime(2026, 1, 15, 12, 0, tzinfo=UTC)
TOMORROW_9AM = datetime(2026, 1, 16, 9, 0, tzinfo=UTC)
LONDON = ZoneInfo("Europe/London")
ACTIONS = sorted({action for _, action in SWAP_TRANSITIONS})
FINAL = [Status.APPLIED, Status.DECLINED, Status.REJECTED, Status.CANCELLED]


def pair_id(value: object) -> str:
    return str(value)


# --- the transition table ---------------------------------------------------------------


def test_the_swap_actions_are_the_six_moves_of_a_swap() -> None:
    assert ACTIONS == ["accept", "apply", "approve", "cancel", "decline", "reject"]


@pytest.mark.parametrize(("state", "action"), list(product(Status, ACTIONS)), ids=pair_id)
def test_every_swap_state_and_action_moves_by_the_table_or_is_refused(
    state: SwapRequest.Status, action: str
) -> None:
    if (state, action) in SWAP_TRANSITIONS:
        assert next_swap_status(state, action) == SWAP_TRANSITIONS[(state, action)]
    else:
        with pytest.raises(IllegalSwapMove) as refused:
            next_swap_status(state, action)
        assert refused.value.current == state.value
        assert refused.value.action == action
        assert str(refused.value) == f"cannot {action} a swap that is {state.value}"


def test_the_table_says_exactly_where_each_move_goes() -> None:
    assert SWAP_TRANSITIONS == {
        (Status.REQUESTED, "accept"): Status.ACCEPTED,
        (Status.REQUESTED, "decline"): Status.DECLINED,
        (Status.REQUESTED, "cancel"): Status.CANCELLED,
        (Status.ACCEPTED, "apply"): Status.APPLIED,
        (Status.ACCEPTED, "approve"): Status.APPLIED,
        (Status.ACCEPTED, "reject"): Status.REJECTED,
        (Status.ACCEPTED, "cancel"): Status.CANCELLED,
    }


@pytest.mark.parametrize(("state", "action"), list(product(FINAL, ACTIONS)), ids=pair_id)
def test_a_decided_swap_is_final(state: SwapRequest.Status, action: str) -> None:
    with pytest.raises(IllegalSwapMove):
        next_swap_status(state, action)


def test_only_a_manager_approval_or_the_automatic_apply_reaches_applied() -> None:
    into_applied = {key for key, after in SWAP_TRANSITIONS.items() if after == Status.APPLIED}

    assert into_applied == {(Status.ACCEPTED, "approve"), (Status.ACCEPTED, "apply")}


def test_an_action_the_table_does_not_know_is_refused() -> None:
    with pytest.raises(IllegalSwapMove) as refused:
        next_swap_status(Status.REQUESTED, "explode")

    assert (refused.value.current, refused.value.action) == ("requested", "explode")


# --- the world of a swap ------------------------------------------------------------------


@dataclass
class Rota:
    """Two registrars of one team, each with a future shift, and the team's rota manager."""

    team: Team
    role: Role
    requester: Person
    colleague: Person
    manager: Person
    shift: Shift
    colleague_shift: Shift


@pytest.fixture
def rota(db: None) -> Rota:
    team = make_team("Medicine")
    switchboard = make_role("Switchboard", bleep_number="1000", kind=Role.Kind.SWITCHBOARD)
    role = make_role("Medical Registrar on call", fallback=switchboard, team=team)
    requester = make_person("omar.haddad")
    colleague = make_person("kemi.adeyemi")
    manager = make_person("rota.medicine", job=Person.Job.ROTA_MANAGER)
    RotaManagerScope.objects.create(person=manager, team=team)
    shift = make_shift(role, requester, TOMORROW_9AM, hours=12)
    colleague_shift = make_shift(role, colleague, TOMORROW_9AM + timedelta(days=1), hours=12)
    return Rota(team, role, requester, colleague, manager, shift, colleague_shift)


def without_approval(rota: Rota) -> Rota:
    rota.team.swaps_need_approval = False
    rota.team.save()
    return rota


def ask(rota: Rota, *, trade: bool = False, now: datetime = NOW) -> SwapRequest:
    return request_swap(
        requester=rota.requester,
        shift=rota.shift,
        counterpart=rota.colleague,
        counterpart_shift=rota.colleague_shift if trade else None,
        now=now,
    )


def holder_of(shift: Shift) -> str:
    return Shift.objects.select_related("person").get(pk=shift.pk).person.username


def status_of(swap: SwapRequest) -> str:
    return SwapRequest.objects.get(pk=swap.pk).status


def rota_state() -> list[tuple[int, int, int, datetime, datetime]]:
    """Every shift as it stands, to show a refused change left the rota alone."""
    return list(
        Shift.objects.order_by("pk").values_list("pk", "role_id", "person_id", "start", "end")
    )


# --- the flows ----------------------------------------------------------------------------


def test_a_request_waits_for_the_colleague_and_changes_nothing_yet(rota: Rota) -> None:
    swap = ask(rota)

    assert swap.status == Status.REQUESTED
    assert (swap.requester, swap.counterpart, swap.created_at) == (
        rota.requester,
        rota.colleague,
        NOW,
    )
    assert holder_of(rota.shift) == "omar.haddad"
    assert RotaChange.objects.filter(model="SwapRequest", action="request").count() == 1


def test_without_approval_the_colleague_accepting_hands_the_shift_over_at_once(
    rota: Rota,
) -> None:
    without_approval(rota)
    swap = ask(rota)

    accepted = accept_swap(actor=rota.colleague, swap_id=swap.pk, now=NOW)

    assert accepted.status == Status.APPLIED
    assert (accepted.decided_by, accepted.decided_at) == (rota.colleague, NOW)
    assert holder_of(rota.shift) == "kemi.adeyemi"
    during = TOMORROW_9AM + timedelta(hours=1)
    assert resolve_role(role=rota.role, at=during).holders == [rota.colleague]
    assert list(
        RotaChange.objects.filter(model="Shift", action="swap").values_list("object_id", flat=True)
    ) == [rota.shift.pk]


def test_a_trade_without_approval_swaps_both_shifts(rota: Rota) -> None:
    without_approval(rota)
    swap = ask(rota, trade=True)

    accept_swap(actor=rota.colleague, swap_id=swap.pk, now=NOW)

    assert holder_of(rota.shift) == "kemi.adeyemi"
    assert holder_of(rota.colleague_shift) == "omar.haddad"
    assert RotaChange.objects.filter(model="Shift", action="swap").count() == 2


def test_with_approval_an_accepted_swap_waits_for_the_rota_manager(rota: Rota) -> None:
    swap = ask(rota, trade=True)

    accepted = accept_swap(actor=rota.colleague, swap_id=swap.pk, now=NOW)

    assert accepted.status == Status.ACCEPTED
    assert holder_of(rota.shift) == "omar.haddad"
    assert holder_of(rota.colleague_shift) == "kemi.adeyemi"


def test_with_approval_the_rota_manager_approving_applies_the_swap_at_once(rota: Rota) -> None:
    swap = ask(rota, trade=True)
    accept_swap(actor=rota.colleague, swap_id=swap.pk, now=NOW)

    approved = approve_swap(actor=rota.manager, swap_id=swap.pk, now=NOW + timedelta(hours=1))

    assert approved.status == Status.APPLIED
    assert approved.decided_by == rota.manager
    assert holder_of(rota.shift) == "kemi.adeyemi"
    assert holder_of(rota.colleague_shift) == "omar.haddad"
    assert list(holders_at(role=rota.role, at=TOMORROW_9AM)) == [rota.colleague]


def test_a_manager_of_the_whole_site_may_approve(rota: Rota) -> None:
    site_manager = make_person("rota.site", job=Person.Job.ROTA_MANAGER)
    RotaManagerScope.objects.create(person=site_manager, site=rota.team.site)
    swap = ask(rota)
    accept_swap(actor=rota.colleague, swap_id=swap.pk, now=NOW)

    assert approve_swap(actor=site_manager, swap_id=swap.pk, now=NOW).status == Status.APPLIED


def test_a_rejected_swap_changes_no_shift(rota: Rota) -> None:
    swap = ask(rota, trade=True)
    accept_swap(actor=rota.colleague, swap_id=swap.pk, now=NOW)
    before = rota_state()

    assert reject_swap(actor=rota.manager, swap_id=swap.pk, now=NOW).status == Status.REJECTED
    assert rota_state() == before


def test_a_declined_swap_changes_no_shift(rota: Rota) -> None:
    swap = ask(rota)
    before = rota_state()

    assert decline_swap(actor=rota.colleague, swap_id=swap.pk, now=NOW).status == Status.DECLINED
    assert rota_state() == before


@pytest.mark.parametrize("accepted_first", [False, True])
def test_the_requester_may_cancel_before_the_swap_is_applied(
    rota: Rota, accepted_first: bool
) -> None:
    swap = ask(rota)
    if accepted_first:
        accept_swap(actor=rota.colleague, swap_id=swap.pk, now=NOW)

    assert cancel_swap(actor=rota.requester, swap_id=swap.pk, now=NOW).status == Status.CANCELLED
    assert holder_of(rota.shift) == "omar.haddad"


def test_an_applied_swap_cannot_be_cancelled(rota: Rota) -> None:
    without_approval(rota)
    swap = ask(rota)
    accept_swap(actor=rota.colleague, swap_id=swap.pk, now=NOW)

    with pytest.raises(IllegalSwapMove) as refused:
        cancel_swap(actor=rota.requester, swap_id=swap.pk, now=NOW)

    assert refused.value.current == "applied"
    assert holder_of(rota.shift) == "kemi.adeyemi"


def test_a_manager_cannot_approve_a_swap_the_colleague_has_not_accepted(rota: Rota) -> None:
    swap = ask(rota)

    with pytest.raises(IllegalSwapMove) as refused:
        approve_swap(actor=rota.manager, swap_id=swap.pk, now=NOW)

    assert refused.value.current == "requested"
    assert status_of(swap) == Status.REQUESTED
    assert holder_of(rota.shift) == "omar.haddad"


def test_a_cancelled_swap_cannot_be_accepted_and_nothing_changes(rota: Rota) -> None:
    without_approval(rota)
    swap = ask(rota)
    cancel_swap(actor=rota.requester, swap_id=swap.pk, now=NOW)
    changes = RotaChange.objects.count()

    with pytest.raises(IllegalSwapMove):
        accept_swap(actor=rota.colleague, swap_id=swap.pk, now=NOW)

    assert status_of(swap) == Status.CANCELLED
    assert holder_of(rota.shift) == "omar.haddad"
    assert RotaChange.objects.count() == changes


# --- double-booking and stale swaps -------------------------------------------------------


def test_accepting_a_swap_that_would_double_book_the_colleague_is_refused_and_nothing_changes(
    rota: Rota,
) -> None:
    without_approval(rota)
    elsewhere = make_role("Medical SHO on call", team=rota.team)
    make_shift(elsewhere, rota.colleague, TOMORROW_9AM + timedelta(hours=6), hours=8)
    swap = ask(rota)
    before, changes = rota_state(), RotaChange.objects.count()

    with pytest.raises(InvalidRotaData) as refused:
        accept_swap(actor=rota.colleague, swap_id=swap.pk, now=NOW)

    assert list(refused.value.errors) == ["person"]
    assert "Medical SHO on call" in refused.value.errors["person"][0]
    assert rota_state() == before
    assert status_of(swap) == Status.REQUESTED
    assert RotaChange.objects.count() == changes


def test_a_trade_whose_second_half_double_books_leaves_the_first_half_undone(rota: Rota) -> None:
    elsewhere = make_role("Medical SHO on call", team=rota.team)
    # The requester is busy when the colleague's shift would come to them.
    make_shift(elsewhere, rota.requester, rota.colleague_shift.start + timedelta(hours=2), hours=4)
    swap = ask(rota, trade=True)
    accept_swap(actor=rota.colleague, swap_id=swap.pk, now=NOW)
    before, changes = rota_state(), RotaChange.objects.count()

    with pytest.raises(InvalidRotaData) as refused:
        approve_swap(actor=rota.manager, swap_id=swap.pk, now=NOW)

    assert list(refused.value.errors) == ["person"]
    assert rota_state() == before
    assert holder_of(rota.shift) == "omar.haddad"
    assert status_of(swap) == Status.ACCEPTED
    assert RotaChange.objects.count() == changes


def test_a_swap_whose_shift_changed_hands_since_is_refused(rota: Rota) -> None:
    swap = ask(rota)
    accept_swap(actor=rota.colleague, swap_id=swap.pk, now=NOW)
    third = make_person("ade.bello")
    Shift.objects.filter(pk=rota.shift.pk).update(person=third)

    with pytest.raises(InvalidRotaData) as refused:
        approve_swap(actor=rota.manager, swap_id=swap.pk, now=NOW)

    assert list(refused.value.errors) == ["shift"]
    assert holder_of(rota.shift) == "ade.bello"
    assert status_of(swap) == Status.ACCEPTED


def test_a_swap_is_not_applied_once_the_colleague_has_left(rota: Rota) -> None:
    swap = ask(rota)
    accept_swap(actor=rota.colleague, swap_id=swap.pk, now=NOW)
    Person.objects.filter(pk=rota.colleague.pk).update(is_active=False)

    with pytest.raises(InvalidRotaData) as refused:
        approve_swap(actor=rota.manager, swap_id=swap.pk, now=NOW)

    assert list(refused.value.errors) == ["counterpart"]
    assert holder_of(rota.shift) == "omar.haddad"


# --- shifts already started ---------------------------------------------------------------


def test_a_shift_that_has_already_started_cannot_be_offered(rota: Rota) -> None:
    with pytest.raises(InvalidRotaData) as refused:
        ask(rota, now=TOMORROW_9AM)

    assert list(refused.value.errors) == ["shift"]
    assert not SwapRequest.objects.exists()


def test_a_swap_cannot_be_accepted_once_the_shift_has_started(rota: Rota) -> None:
    without_approval(rota)
    swap = ask(rota)

    with pytest.raises(InvalidRotaData) as refused:
        accept_swap(actor=rota.colleague, swap_id=swap.pk, now=TOMORROW_9AM + timedelta(minutes=1))

    assert list(refused.value.errors) == ["shift"]
    assert status_of(swap) == Status.REQUESTED
    assert holder_of(rota.shift) == "omar.haddad"


def test_with_approval_a_swap_cannot_be_accepted_once_the_shift_has_started(rota: Rota) -> None:
    swap = ask(rota)

    with pytest.raises(InvalidRotaData):
        accept_swap(actor=rota.colleague, swap_id=swap.pk, now=TOMORROW_9AM)

    assert status_of(swap) == Status.REQUESTED


def test_a_swap_cannot_be_approved_once_the_shift_has_started(rota: Rota) -> None:
    swap = ask(rota)
    accept_swap(actor=rota.colleague, swap_id=swap.pk, now=NOW)

    with pytest.raises(InvalidRotaData) as refused:
        approve_swap(actor=rota.manager, swap_id=swap.pk, now=TOMORROW_9AM + timedelta(hours=1))

    assert list(refused.value.errors) == ["shift"]
    assert status_of(swap) == Status.ACCEPTED
    assert holder_of(rota.shift) == "omar.haddad"


def test_a_trade_cannot_be_applied_once_the_shift_in_return_has_started(rota: Rota) -> None:
    rota.colleague_shift.start = NOW + timedelta(hours=1)
    rota.colleague_shift.end = NOW + timedelta(hours=5)
    rota.colleague_shift.save()
    swap = ask(rota, trade=True)
    accept_swap(actor=rota.colleague, swap_id=swap.pk, now=NOW)

    with pytest.raises(InvalidRotaData) as refused:
        approve_swap(actor=rota.manager, swap_id=swap.pk, now=NOW + timedelta(hours=2))

    assert list(refused.value.errors) == ["counterpart_shift"]


# --- who may ask for what -----------------------------------------------------------------


def test_nobody_may_offer_someone_else_s_shift(rota: Rota) -> None:
    with pytest.raises(NotYourMove):
        request_swap(
            requester=rota.colleague, shift=rota.shift, counterpart=rota.colleague, now=NOW
        )


@pytest.mark.parametrize(
    ("who", "job", "active"),
    [("self", Person.Job.DOCTOR, True), ("nurse", Person.Job.NURSE, True), ("left", "", False)],
)
def test_a_shift_is_offered_only_to_an_active_colleague_of_the_same_job(
    rota: Rota, who: str, job: str, active: bool
) -> None:
    if who == "self":
        counterpart = rota.requester
    else:
        counterpart = make_person(who, job=job or Person.Job.DOCTOR, is_active=active)

    with pytest.raises(InvalidRotaData) as refused:
        request_swap(requester=rota.requester, shift=rota.shift, counterpart=counterpart, now=NOW)

    assert list(refused.value.errors) == ["counterpart"]


def test_the_shift_in_return_must_be_the_colleague_s_own(rota: Rota) -> None:
    with pytest.raises(InvalidRotaData) as refused:
        request_swap(
            requester=rota.requester,
            shift=rota.shift,
            counterpart=make_person("ade.bello"),
            counterpart_shift=rota.colleague_shift,
            now=NOW,
        )

    assert list(refused.value.errors) == ["counterpart_shift"]


def test_the_shift_in_return_must_be_of_the_same_team(rota: Rota) -> None:
    surgery = make_role("Surgical Registrar", team=make_team("Surgery"))
    theirs = make_shift(surgery, rota.colleague, TOMORROW_9AM + timedelta(days=3))

    with pytest.raises(InvalidRotaData) as refused:
        request_swap(
            requester=rota.requester,
            shift=rota.shift,
            counterpart=rota.colleague,
            counterpart_shift=theirs,
            now=NOW,
        )

    assert list(refused.value.errors) == ["counterpart_shift"]


def test_two_shifts_that_overlap_cannot_be_traded(rota: Rota) -> None:
    sho = make_role("Medical SHO on call", team=rota.team)
    theirs = make_shift(sho, rota.colleague, TOMORROW_9AM + timedelta(hours=11))

    with pytest.raises(InvalidRotaData) as refused:
        request_swap(
            requester=rota.requester,
            shift=rota.shift,
            counterpart=rota.colleague,
            counterpart_shift=theirs,
            now=NOW,
        )

    assert refused.value.errors == {"counterpart_shift": ["the two shifts overlap"]}


def test_a_shift_already_offered_in_an_open_swap_cannot_be_offered_again(rota: Rota) -> None:
    first = ask(rota)

    with pytest.raises(InvalidRotaData) as refused:
        request_swap(
            requester=rota.requester,
            shift=rota.shift,
            counterpart=make_person("ade.bello"),
            now=NOW,
        )

    assert list(refused.value.errors) == ["shift"]
    cancel_swap(actor=rota.requester, swap_id=first.pk, now=NOW)
    assert ask(rota).status == Status.REQUESTED


def test_only_the_colleague_asked_may_accept_or_decline(rota: Rota) -> None:
    swap = ask(rota)

    for move in (accept_swap, decline_swap):
        for actor in (rota.requester, rota.manager):
            with pytest.raises(NotYourMove):
                move(actor=actor, swap_id=swap.pk, now=NOW)
    assert status_of(swap) == Status.REQUESTED


def test_only_the_requester_may_cancel(rota: Rota) -> None:
    swap = ask(rota)

    for actor in (rota.colleague, rota.manager):
        with pytest.raises(NotYourMove):
            cancel_swap(actor=actor, swap_id=swap.pk, now=NOW)
    assert status_of(swap) == Status.REQUESTED


def test_only_a_rota_manager_of_the_team_may_approve_or_reject(rota: Rota) -> None:
    swap = ask(rota)
    accept_swap(actor=rota.colleague, swap_id=swap.pk, now=NOW)
    elsewhere = make_person("rota.surgery", job=Person.Job.ROTA_MANAGER)
    RotaManagerScope.objects.create(person=elsewhere, team=make_team("Surgery"))

    for move in (approve_swap, reject_swap):
        for actor in (rota.requester, rota.colleague):
            with pytest.raises(NotYourMove):
                move(actor=actor, swap_id=swap.pk, now=NOW)
        with pytest.raises(SwapNotFound):
            move(actor=elsewhere, swap_id=swap.pk, now=NOW)
    assert status_of(swap) == Status.ACCEPTED


def test_someone_outside_a_swap_is_told_it_does_not_exist(rota: Rota) -> None:
    swap = ask(rota)
    outsider = make_person("ade.bello")

    with pytest.raises(SwapNotFound):
        accept_swap(actor=outsider, swap_id=swap.pk, now=NOW)
    with pytest.raises(SwapNotFound):
        accept_swap(actor=rota.colleague, swap_id=swap.pk + 1000, now=NOW)


# --- cover for sickness -------------------------------------------------------------------


@pytest.fixture
def cover(rota: Rota) -> Person:
    return make_person("locum.one")


def parts_of(shifts: list[Shift]) -> list[tuple[str, datetime, datetime]]:
    return [(shift.person.username, shift.start, shift.end) for shift in shifts]


def test_cover_in_the_middle_splits_the_shift_into_before_cover_and_after(
    rota: Rota, cover: Person
) -> None:
    start, end = TOMORROW_9AM + timedelta(hours=3), TOMORROW_9AM + timedelta(hours=7)

    parts = cover_shift(
        actor=rota.manager, shift=rota.shift, person=cover, start=start, end=end, now=NOW
    )

    assert parts_of(parts) == [
        ("omar.haddad", TOMORROW_9AM, start),
        ("locum.one", start, end),
        ("omar.haddad", end, TOMORROW_9AM + timedelta(hours=12)),
    ]
    assert parts[0].pk == rota.shift.pk
    stored = Shift.objects.filter(role=rota.role, start__lt=TOMORROW_9AM + timedelta(hours=12))
    assert parts_of(list(stored.order_by("start"))) == parts_of(parts)
    assert RotaChange.objects.filter(model="Shift", action="cover").count() == 3


@pytest.mark.hazard("HZ-01")
def test_routing_gives_the_coverer_during_the_cover_at_once(rota: Rota, cover: Person) -> None:
    start, end = TOMORROW_9AM + timedelta(hours=3), TOMORROW_9AM + timedelta(hours=7)
    assert resolve_role(role=rota.role, at=start).holders == [rota.requester]

    cover_shift(actor=rota.manager, shift=rota.shift, person=cover, start=start, end=end, now=NOW)

    tick = timedelta(microseconds=1)
    assert resolve_role(role=rota.role, at=start - tick).holders == [rota.requester]
    assert resolve_role(role=rota.role, at=start).holders == [cover]
    assert resolve_role(role=rota.role, at=end - tick).holders == [cover]
    assert resolve_role(role=rota.role, at=end).holders == [rota.requester]


def test_cover_from_the_start_leaves_the_holder_the_end_of_their_own_shift(
    rota: Rota, cover: Person
) -> None:
    end = TOMORROW_9AM + timedelta(hours=4)

    parts = cover_shift(
        actor=rota.manager, shift=rota.shift, person=cover, start=TOMORROW_9AM, end=end, now=NOW
    )

    assert parts_of(parts) == [
        ("locum.one", TOMORROW_9AM, end),
        ("omar.haddad", end, TOMORROW_9AM + timedelta(hours=12)),
    ]
    assert parts[1].pk == rota.shift.pk


def test_cover_to_the_end_leaves_the_holder_the_start_of_their_shift(
    rota: Rota, cover: Person
) -> None:
    start, end = TOMORROW_9AM + timedelta(hours=8), TOMORROW_9AM + timedelta(hours=12)

    parts = cover_shift(
        actor=rota.manager, shift=rota.shift, person=cover, start=start, end=end, now=NOW
    )

    assert parts_of(parts) == [("omar.haddad", TOMORROW_9AM, start), ("locum.one", start, end)]


def test_cover_of_the_whole_shift_hands_the_shift_over(rota: Rota, cover: Person) -> None:
    parts = cover_shift(
        actor=rota.manager,
        shift=rota.shift,
        person=cover,
        start=rota.shift.start,
        end=rota.shift.end,
        now=NOW,
    )

    assert parts_of(parts) == [("locum.one", rota.shift.start, rota.shift.end)]
    assert Shift.objects.filter(role=rota.role).count() == 2


def test_cover_on_the_night_the_clocks_go_back_is_measured_in_real_hours(
    rota: Rota, cover: Person
) -> None:
    night = make_shift(
        rota.role,
        make_person("night.registrar"),
        to_utc(day=date(2026, 10, 24), at=time(20, 0), zone=LONDON),
        hours=13.5,
    )
    start = datetime(2026, 10, 25, 0, 0, tzinfo=LONDON)
    end = datetime(2026, 10, 25, 4, 0, tzinfo=LONDON)

    parts = cover_shift(
        actor=rota.manager, shift=night, person=cover, start=start, end=end, now=NOW
    )

    assert [part.end - part.start for part in parts] == [
        timedelta(hours=4),
        timedelta(hours=5),
        timedelta(hours=4, minutes=30),
    ]
    assert parts[1].start == datetime(2026, 10, 24, 23, 0, tzinfo=UTC)
    assert parts[2].end == to_utc(day=date(2026, 10, 25), at=time(8, 30), zone=LONDON)


@pytest.mark.parametrize(
    ("start_hours", "end_hours", "field"),
    [
        (-1, 2, "start"),
        (12, 13, "start"),
        (3, 3, "end"),
        (4, 3, "end"),
        (10, 13, "end"),
    ],
)
def test_cover_outside_the_shift_or_backwards_is_refused_naming_the_field(
    rota: Rota, cover: Person, start_hours: int, end_hours: int, field: str
) -> None:
    before = rota_state()

    with pytest.raises(InvalidRotaData) as refused:
        cover_shift(
            actor=rota.manager,
            shift=rota.shift,
            person=cover,
            start=TOMORROW_9AM + timedelta(hours=start_hours),
            end=TOMORROW_9AM + timedelta(hours=end_hours),
            now=NOW,
        )

    assert list(refused.value.errors) == [field]
    assert rota_state() == before


@pytest.mark.parametrize("who", ["holder", "inactive"])
def test_cover_by_the_holder_or_someone_inactive_is_refused(rota: Rota, who: str) -> None:
    person = rota.requester if who == "holder" else make_person("left", is_active=False)

    with pytest.raises(InvalidRotaData) as refused:
        cover_shift(
            actor=rota.manager,
            shift=rota.shift,
            person=person,
            start=TOMORROW_9AM,
            end=TOMORROW_9AM + timedelta(hours=1),
            now=NOW,
        )

    assert list(refused.value.errors) == ["person"]


def test_cover_by_someone_already_booked_is_refused_and_nothing_changes(
    rota: Rota, cover: Person
) -> None:
    make_shift(make_role("Medical SHO on call"), cover, TOMORROW_9AM + timedelta(hours=5), hours=2)
    before, changes = rota_state(), RotaChange.objects.count()

    with pytest.raises(InvalidRotaData) as refused:
        cover_shift(
            actor=rota.manager,
            shift=rota.shift,
            person=cover,
            start=TOMORROW_9AM + timedelta(hours=3),
            end=TOMORROW_9AM + timedelta(hours=7),
            now=NOW,
        )

    assert list(refused.value.errors) == ["person"]
    assert rota_state() == before
    assert RotaChange.objects.count() == changes


@pytest.mark.hazard("HZ-02")
def test_the_role_keeps_a_holder_across_every_minute_of_a_covered_shift(
    rota: Rota, cover: Person
) -> None:
    cover_shift(
        actor=rota.manager,
        shift=rota.shift,
        person=cover,
        start=TOMORROW_9AM + timedelta(hours=3, minutes=17),
        end=TOMORROW_9AM + timedelta(hours=9, minutes=41),
        now=NOW,
    )

    for minute in range(12 * 60):
        at = TOMORROW_9AM + timedelta(minutes=minute)
        assert len(holders_at(role=rota.role, at=at)) == 1, at
