"""Whether Bleep can reach a person, proved before it matters: the test a person sends their
own phone, and the check of everyone about to come on call.

A person counts as reachable by a verified, usable number on a channel this server sends
on, or by a device that has lately confirmed something reached it (a bleep's receipt or a
phone test) and still has a push subscription to be woken by. A push service's 201 proves
nothing (design notes, "Web Push facts"): only the device's own confirmation does.
"""

from collections.abc import Iterable
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Exists, F, OuterRef, Q

from messaging import events
from messaging.exceptions import PhoneTestNotFound
from messaging.fallback.outbox import usable_channels
from messaging.models import ContactPoint, Device, PhoneTest, PushSubscription, ShiftWarning
from messaging.push import queue_test_pushes
from messaging.selectors import switchboard_operator_ids
from messaging.services.stream import append_events, stream_transaction
from rota.models import Person, Shift

# A device's confirmation proves it rings for a week: long enough to cover days off
# between shifts, short enough that a phone whose push iOS has quietly stopped (after days
# unopened) or whose subscription lapsed is caught before the next run of nights.
PROOF_LASTS = timedelta(days=7)
# As a device's last use: written at most once a minute, since proof counts in days.
CONFIRMED_RESOLUTION = timedelta(seconds=60)
# How long a phone has to confirm the test the check before a shift sends it, before its
# owner and switchboard are warned: a push that works arrives in seconds, and a minute more
# covers a phone waking from its battery saving.
TEST_GRACE = timedelta(minutes=2)
# A test push is worth ringing for this long; a phone out of signal longer tests again.
TEST_PUSH_TTL = timedelta(minutes=15)


def reachable_ids(
    person_ids: Iterable[int], *, now: datetime, until: datetime | None = None
) -> set[int]:
    """Return which of these people Bleep can reach, by a number or a proven device; with
    `until`, a device whose sign-in at the identity provider ends before then does not
    count (it will have stopped by the start of the shift `until` is)."""
    ids = sorted(set(person_ids))
    lasting = Q(sso_ends_at__isnull=True) | Q(sso_ends_at__gt=until or now)
    by_number = ContactPoint.objects.filter(
        person_id__in=ids,
        kind__in=usable_channels(),
        verified_at__isnull=False,
        unusable_at__isnull=True,
    ).values_list("person_id", flat=True)
    subscribed = PushSubscription.objects.filter(device=OuterRef("pk"))
    by_device = (
        Device.objects.filter(
            user_id__in=ids,
            revoked_at__isnull=True,
            confirmed_at__gte=now - PROOF_LASTS,
        )
        .filter(lasting, Exists(subscribed))
        .values_list("user_id", flat=True)
    )
    return set(by_number) | set(by_device)


def start_phone_test(*, person: Person, now: datetime) -> PhoneTest:
    """Send `person`'s devices a test bleep, over the socket and Web Push, to confirm.

    Owns its transaction. Confirming it (`confirm_phone_test`) proves that device rings.
    """
    with stream_transaction():
        return _send_test(person, now=now)


def confirm_phone_test(*, device: Device, test_id: int, now: datetime) -> PhoneTest:
    """Record that `device` received its owner's test bleep; the device now counts as proven.

    Owns its transaction. Confirming again, or from a second device, changes nothing but
    that device's proof.
    """
    with stream_transaction():
        test = (
            PhoneTest.objects.select_for_update()
            .filter(pk=test_id, person_id=device.user_id)
            .first()
        )
        if test is None:
            raise PhoneTestNotFound
        if test.confirmed_at is None:
            test.confirmed_at, test.confirmed_by = now, device
            test.save(update_fields=["confirmed_at", "confirmed_by"])
        note_confirmed(device=device, now=now)
    return test


def note_confirmed(*, device: Device, now: datetime) -> None:
    """Note that something reached `device` at `now`, and close its owner's warnings if that
    makes them reachable. Runs in the caller's `stream_transaction`."""
    if device.confirmed_at is not None and now - device.confirmed_at < CONFIRMED_RESOLUTION:
        return
    Device.objects.filter(pk=device.pk).update(confirmed_at=now)
    device.confirmed_at = now
    resolve_warnings(person_ids=[device.user_id], now=now)


def check_coming_shifts(*, now: datetime) -> list[ShiftWarning]:
    """Warn everyone coming on call within CONTACT_CHECK_LEAD_MINUTES whom Bleep cannot
    reach, and switchboard, once per shift; close warnings that no longer hold.

    Owns its transaction. Someone whose phone can be woken by a push but has not proved it
    lately is first sent a phone test, which their phone confirms by itself when it shows
    it: only if it has not within TEST_GRACE are they warned. Switchboard hears of phones
    that do not ring, not of every doctor who had a quiet week.
    """
    lead = timedelta(minutes=settings.CONTACT_CHECK_LEAD_MINUTES)
    with stream_transaction():
        resolve_warnings(person_ids=None, now=now)
        warned = ShiftWarning.objects.filter(shift=OuterRef("pk"), person=OuterRef("person"))
        coming = (
            Shift.objects.filter(start__gt=now, start__lte=now + lead, person__is_active=True)
            .exclude(Exists(warned))
            .select_related("role", "person")
            .order_by("start", "pk")
        )
        shifts = list(coming)
        people = {shift.person_id for shift in shifts}
        # Reachable at the start of their first coming shift: a phone whose sign-in at the
        # identity provider ends before then will be silent when it starts.
        starts: dict[int, datetime] = {}
        for shift in shifts:
            starts.setdefault(shift.person_id, shift.start)
        reachable = {
            person
            for start in set(starts.values())
            for person in reachable_ids(
                [p for p, s in starts.items() if s == start], now=now, until=start
            )
        }
        testing = _testing(people - reachable, now=now)
        raised = []
        for shift in shifts:
            if shift.person_id in reachable or shift.person_id in testing:
                continue
            warning = ShiftWarning.objects.create(shift=shift, person=shift.person, raised_at=now)
            event = events.shift_unreachable(warning)
            append_events(
                user_ids=[shift.person_id, *switchboard_operator_ids()], event=event, now=now
            )
            raised.append(warning)
    return raised


def _testing(person_ids: set[int], *, now: datetime) -> set[int]:
    """Send a phone test to each of these people whose phone could prove itself and has not
    been sent one lately; return those whose test is still within TEST_GRACE."""
    subscribed = PushSubscription.objects.filter(device=OuterRef("pk"))
    testable = set(
        Device.objects.filter(user_id__in=sorted(person_ids), revoked_at__isnull=True)
        .filter(Exists(subscribed))
        .values_list("user_id", flat=True)
    )
    recent = dict(
        PhoneTest.objects.filter(person_id__in=sorted(testable), created_at__gt=now - TEST_PUSH_TTL)
        .order_by("person_id", "created_at")
        .values_list("person_id", "created_at")
    )
    for person in Person.objects.filter(pk__in=sorted(testable - set(recent))).order_by("pk"):
        _send_test(person, now=now)
        recent[person.pk] = now
    return {person for person, sent in recent.items() if now - sent < TEST_GRACE}


def _send_test(person: Person, *, now: datetime) -> PhoneTest:
    test = PhoneTest.objects.create(person=person, created_at=now)
    append_events(user_ids=[person.pk], event=events.phone_test_sent(test), now=now)
    queue_test_pushes(test=test, ttl=TEST_PUSH_TTL, now=now)
    return test


def resolve_warnings(*, person_ids: list[int] | None, now: datetime) -> None:
    """Close open warnings whose shift has ended or passed to someone else, or whose person
    Bleep can reach now."""
    open_warnings = ShiftWarning.objects.filter(resolved_at__isnull=True)
    if person_ids is not None:
        open_warnings = open_warnings.filter(person_id__in=person_ids)
    # Over, or no longer this person's shift (swapped or covered): nothing left to warn of.
    ended = Q(shift__end__lte=now) | ~Q(shift__person=F("person"))
    open_warnings.filter(ended).update(resolved_at=now)
    still = list(open_warnings.exclude(ended).values_list("pk", "person_id", "shift__start"))
    # Reachable at the shift's start, if it is still to come (as the check asks).
    reachable = {
        (person, start)
        for start in {max(start, now) for _, _, start in still}
        for person in reachable_ids(
            [p for _, p, s in still if max(s, now) == start], now=now, until=start
        )
    }
    done = [pk for pk, person, start in still if (person, max(start, now)) in reachable]
    if done:
        ShiftWarning.objects.filter(pk__in=done).update(resolved_at=now)
