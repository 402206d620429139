"""Swaps between colleagues and cover for sickness: shifts change hands, at once, for routing.

Shifts only ever change through `write_record`, so a swap or cover that would double-book
someone is refused and changes nothing, and every step is in the rota's audit trail. Each
service checks its own rule of who may first (the colleague asked, the team's rota manager),
so it writes through `write_record`, which does not ask again whether the actor manages
the rota: a doctor accepting a swap changes two shifts without being a rota manager.
"""

from datetime import UTC, datetime

from django.db import transaction

from bleep.transitions import next_state
from rota.exceptions import IllegalSwapMove, NotYourMove, invalid
from rota.models import Person, Shift, SwapRequest
from rota.permissions import access_swap, manages, require_may_change
from rota.services.records import write_record

Status = SwapRequest.Status

SWAP_TRANSITIONS: dict[tuple[Status, str], Status] = {
    (Status.REQUESTED, "accept"): Status.ACCEPTED,
    (Status.REQUESTED, "decline"): Status.DECLINED,
    (Status.REQUESTED, "cancel"): Status.CANCELLED,
    # Taken at once after "accept" when the team needs no rota manager's approval.
    (Status.ACCEPTED, "apply"): Status.APPLIED,
    (Status.ACCEPTED, "approve"): Status.APPLIED,
    (Status.ACCEPTED, "reject"): Status.REJECTED,
    (Status.ACCEPTED, "cancel"): Status.CANCELLED,
}

OPEN_STATUSES = frozenset({Status.REQUESTED, Status.ACCEPTED})


def next_swap_status(current: Status, action: str) -> Status:
    """Return the state `action` moves a swap in `current` to, or raise IllegalSwapMove."""
    return next_state(SWAP_TRANSITIONS, current, action, IllegalSwapMove)


def request_swap(
    *,
    requester: Person,
    shift: Shift,
    counterpart: Person,
    counterpart_shift: Shift | None = None,
    now: datetime,
) -> SwapRequest:
    """Offer one of my future shifts to a colleague, optionally for one of theirs in return.

    Owns its transaction and locks the shifts, so two offers of one shift cannot both pass.
    """
    with transaction.atomic():
        other_id = counterpart_shift.pk if counterpart_shift is not None else None
        shift, other = _lock_shifts(shift.pk, other_id)
        if shift.person_id != requester.pk:
            raise NotYourMove("you can offer only your own shifts")
        _check_counterpart(requester=requester, counterpart=counterpart)
        _check_not_started(shift=shift, other=other, now=now)
        if other is not None:
            _check_return_shift(shift=shift, other=other, counterpart=counterpart)
        open_swaps = SwapRequest.objects.filter(shift=shift, status__in=OPEN_STATUSES)
        if open_swaps.exists():
            raise invalid("shift", "this shift is already offered in an open swap")
        changes = {
            "shift": shift,
            "counterpart_shift": other,
            "requester": requester,
            "counterpart": counterpart,
            "created_at": now,
        }
        return write_record(
            actor=requester, instance=SwapRequest(), changes=changes, now=now, action="request"
        )


def accept_swap(*, actor: Person, swap_id: int, now: datetime) -> SwapRequest:
    """Agree to a swap I was asked; it is applied at once unless the team needs approval.

    Owns its transaction and locks the swap, then its shifts.
    """
    with transaction.atomic():
        swap = _lock_swap(actor=actor, swap_id=swap_id)
        if swap.counterpart_id != actor.pk:
            raise NotYourMove("only the colleague asked can accept this swap")
        swap = _move(swap=swap, action="accept", actor=actor, now=now)
        if swap.shift.role.team.swaps_need_approval:
            shift, other = _lock_shifts(swap.shift_id, swap.counterpart_shift_id)
            _check_not_started(shift=shift, other=other, now=now)
            return swap
        _apply(swap=swap, actor=actor, now=now)
        return _move(swap=swap, action="apply", actor=actor, now=now)


def decline_swap(*, actor: Person, swap_id: int, now: datetime) -> SwapRequest:
    """Say no to a swap I was asked. Owns its transaction and locks the swap."""
    with transaction.atomic():
        swap = _lock_swap(actor=actor, swap_id=swap_id)
        if swap.counterpart_id != actor.pk:
            raise NotYourMove("only the colleague asked can decline this swap")
        return _move(swap=swap, action="decline", actor=actor, now=now)


def approve_swap(*, actor: Person, swap_id: int, now: datetime) -> SwapRequest:
    """Approve an agreed swap as a rota manager of its team, applying it at once.

    Owns its transaction and locks the swap, then its shifts.
    """
    with transaction.atomic():
        swap = _lock_swap(actor=actor, swap_id=swap_id)
        if not manages(actor, swap.shift.role.team):
            raise NotYourMove("only a rota manager of the team can approve this swap")
        swap = _move(swap=swap, action="approve", actor=actor, now=now)
        _apply(swap=swap, actor=actor, now=now)
        return swap


def reject_swap(*, actor: Person, swap_id: int, now: datetime) -> SwapRequest:
    """Refuse an agreed swap as a rota manager of its team. Owns its transaction and lock."""
    with transaction.atomic():
        swap = _lock_swap(actor=actor, swap_id=swap_id)
        if not manages(actor, swap.shift.role.team):
            raise NotYourMove("only a rota manager of the team can reject this swap")
        return _move(swap=swap, action="reject", actor=actor, now=now)


def cancel_swap(*, actor: Person, swap_id: int, now: datetime) -> SwapRequest:
    """Withdraw a swap I asked for, before it is applied. Owns its transaction and lock."""
    with transaction.atomic():
        swap = _lock_swap(actor=actor, swap_id=swap_id)
        if swap.requester_id != actor.pk:
            raise NotYourMove("only the person who asked can cancel this swap")
        return _move(swap=swap, action="cancel", actor=actor, now=now)


def cover_shift(
    *, actor: Person, shift: Shift, person: Person, start: datetime, end: datetime, now: datetime
) -> list[Shift]:
    """Give `person` the role from `start` to `end` of `shift`, as a rota manager of it.

    Its holder keeps the rest; anyone but a rota manager of the shift gets ChangeNotAllowed.
    Returns the parts (before, cover, after; those that are not empty) in time order. Owns
    its transaction and locks the shift: the parts commit together or not at all, so the
    role has a holder throughout, whoever reads it.
    """
    start, end = start.astimezone(UTC), end.astimezone(UTC)
    with transaction.atomic():
        shift, _ = _lock_shifts(shift.pk, None)
        require_may_change(actor, shift)
        _check_cover(shift=shift, person=person, start=start, end=end)
        kept, added = _plan_cover(shift=shift, person=person, start=start, end=end)
        parts = [write_record(actor=actor, instance=shift, changes=kept, now=now, action="cover")]
        # The holder's row shrinks first, so no moment is briefly booked twice.
        for who, part_start, part_end in added:
            part = Shift(role=shift.role)
            changes = {"person": who, "start": part_start, "end": part_end}
            parts.append(
                write_record(actor=actor, instance=part, changes=changes, now=now, action="cover")
            )
        return sorted(parts, key=lambda part: part.start)


def _plan_cover(
    *, shift: Shift, person: Person, start: datetime, end: datetime
) -> tuple[dict[str, object], list[tuple[Person, datetime, datetime]]]:
    """Return the change to the shift's own row, and the new parts, of a cover."""
    cover = (person, start, end)
    # The holder's own row stays theirs (with its pattern or calendar link) while they keep
    # any of the shift; only a cover of the whole shift hands the row over.
    if start > shift.start:
        after = [(shift.person, end, shift.end)] if end < shift.end else []
        return {"end": start}, [cover, *after]
    if end < shift.end:
        return {"start": end}, [cover]
    return {"person": person}, []


def _check_cover(*, shift: Shift, person: Person, start: datetime, end: datetime) -> None:
    """Raise InvalidRotaData naming the field unless the cover fits within the shift."""
    if not shift.start <= start < shift.end:
        raise invalid("start", "the cover must start within the shift")
    if end <= start:
        raise invalid("end", "the cover must end after it starts")
    if end > shift.end:
        raise invalid("end", "the cover must end within the shift")
    if person.pk == shift.person_id:
        raise invalid("person", "this person already holds the shift")
    if not person.is_active:
        raise invalid("person", "this person is no longer active")


def _lock_swap(*, actor: Person, swap_id: int) -> SwapRequest:
    """Return the swap, locked, if `actor` may see it; else raise SwapNotFound."""
    access_swap(actor, swap_id)
    return (
        SwapRequest.objects.select_for_update(of=("self",))
        .select_related("shift__role__team", "requester", "counterpart")
        .get(pk=swap_id)
    )


def _lock_shifts(shift_id: int, other_id: int | None) -> tuple[Shift, Shift | None]:
    """Return a shift and optionally a second one, locked in id order so locks never cross."""
    ids = [shift_id] if other_id is None else [shift_id, other_id]
    locked = {
        shift.pk: shift
        for shift in Shift.objects.select_for_update(of=("self",))
        .select_related("role__team", "role__site", "person")
        .filter(pk__in=ids)
        .order_by("pk")
    }
    if shift_id not in locked:
        raise invalid("shift", "no such shift")
    if other_id is not None and other_id not in locked:
        raise invalid("counterpart_shift", "no such shift")
    return locked[shift_id], None if other_id is None else locked[other_id]


def _move(*, swap: SwapRequest, action: str, actor: Person, now: datetime) -> SwapRequest:
    """Move the swap by `action` through the transition table and record the step."""
    status = next_swap_status(Status(swap.status), action)
    changes = {"status": status, "decided_at": now, "decided_by": actor}
    return write_record(actor=actor, instance=swap, changes=changes, now=now, action=action)


def _apply(*, swap: SwapRequest, actor: Person, now: datetime) -> None:
    """Hand the shifts over, checked like any rota change; refused, nothing changes."""
    shift, other = _lock_shifts(swap.shift_id, swap.counterpart_shift_id)
    if shift.person_id != swap.requester_id:
        raise invalid("shift", "the shift has changed hands since the swap was asked for")
    if other is not None and other.person_id != swap.counterpart_id:
        raise invalid("counterpart_shift", "the shift has changed hands since it was offered")
    _check_not_started(shift=shift, other=other, now=now)
    # Someone who has left cannot answer a bleep: handing them a shift would open a gap.
    if not (swap.counterpart.is_active and swap.requester.is_active):
        raise invalid("counterpart", "one of the two has left and cannot take a shift")
    write_record(
        actor=actor, instance=shift, changes={"person": swap.counterpart}, now=now, action="swap"
    )
    if other is not None:
        write_record(
            actor=actor, instance=other, changes={"person": swap.requester}, now=now, action="swap"
        )


def _check_counterpart(*, requester: Person, counterpart: Person) -> None:
    """Raise InvalidRotaData unless `counterpart` is an active colleague of the same job."""
    if counterpart.pk == requester.pk:
        raise invalid("counterpart", "offer the shift to someone else")
    if not counterpart.is_active:
        raise invalid("counterpart", "this person is no longer active")
    # A role must be held by someone who can answer its bleeps: a doctor's shift goes
    # to a doctor, never by a swap to a nurse or a switchboard operator.
    if counterpart.job != requester.job:
        raise invalid("counterpart", "a swap is between colleagues with the same job")


def _check_not_started(*, shift: Shift, other: Shift | None, now: datetime) -> None:
    """Raise InvalidRotaData naming the shift that has already started."""
    if shift.start <= now:
        raise invalid("shift", "the shift has already started")
    if other is not None and other.start <= now:
        raise invalid("counterpart_shift", "the shift has already started")


def _check_return_shift(*, shift: Shift, other: Shift, counterpart: Person) -> None:
    """Raise InvalidRotaData unless `other` is the colleague's own shift on the same team."""
    if other.person_id != counterpart.pk:
        raise invalid("counterpart_shift", "not a shift of the colleague asked")
    if other.role.team_id != shift.role.team_id:
        raise invalid("counterpart_shift", "a swap is between shifts of the same team")
    # Each of the two would hold both shifts for a moment during the hand-over, which
    # the double-booking rule refuses; a rota manager changes overlapping shifts directly.
    if other.start < shift.end and shift.start < other.end:
        raise invalid("counterpart_shift", "the two shifts overlap")
