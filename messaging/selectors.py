"""Reads of messaging data; every read of one bleep goes through `access_bleep`."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import (
    Case,
    Count,
    Min,
    Q,
    QuerySet,
    Value,
    When,
    prefetch_related_objects,
)
from django_otp.plugins.otp_totp.models import TOTPDevice

from messaging.exceptions import (
    BleepNotFound,
    ContactNotFound,
    DeviceNotFound,
    NotARecipient,
    PushSubscriptionNotFound,
)
from messaging.models import (
    Bleep,
    BleepStatus,
    ContactPoint,
    Delivery,
    Device,
    FloodAlert,
    Priority,
    PushMessage,
    PushStatus,
    PushSubscription,
    ShiftWarning,
    StreamEvent,
    TeamCall,
)
from rota.models import Person, Role, Shift
from rota.permissions import managed_teams
from rota.selectors import every_operator, get_person, get_role

# Whose account can change who is bleeped or read every bleep: a stolen password alone
# must not be enough to take one over.
MFA_JOBS = frozenset({Person.Job.ROTA_MANAGER, Person.Job.AUDITOR})


def mfa_required(person: Person) -> bool:
    """Return whether `person` must sign in with a second factor.

    The one place the rule lives: sign-in, /api/me, turning MFA off and the app all ask here.
    """
    return person.is_superuser or person.job in MFA_JOBS


def mfa_enrolled(person: Person) -> bool:
    """Return whether `person` has a confirmed authenticator, so sign-in asks for a code."""
    return TOTPDevice.objects.filter(user=person, confirmed=True).exists()


# What a bleep's summary (`events.bleep_summary`) shows, loaded with it rather than one
# query per field: without them a board of 1,300 bleeps made thousands more queries.
BLEEP_RELATIONS = (
    "role",
    "answering_role",
    "person",
    "sender",
    "location",
    "acknowledged_by",
)

# Lists of open bleeps go by priority, emergencies first, then urgent, then routine: someone
# paging through a flood of routine bleeps must meet every emergency on the first page, not
# the twenty-sixth, and an urgent one before the routine ones.
BY_PRIORITY = Case(
    When(priority=Priority.EMERGENCY, then=Value(0)),
    When(priority=Priority.URGENT, then=Value(1)),
    default=Value(2),
)

# A reconnecting device is sent at most this many missed events per query, in order.
CATCH_UP_BATCH = 500

# A due push waiting longer than this means pushes have stopped leaving. A working sender
# starts a due push within a second (its poll) and a failed turn waits 5 s, so this is no
# hiccup; it is also how stale the worker's heartbeat may grow, and half an emergency's
# one-minute step, when a phone with the app closed would not have been rung.
PUSH_LATE_AFTER = timedelta(seconds=30)


def visible_bleeps(user: Person) -> QuerySet[Bleep]:
    """Return the bleeps `user` may see: sent by them, sent to them, or all for switchboard
    and for clinical safety officers (auditors)."""
    bleeps = Bleep.objects.select_related(*BLEEP_RELATIONS).prefetch_related(
        "deliveries__recipient"
    )
    if user.job in (Person.Job.SWITCHBOARD, Person.Job.AUDITOR):
        return bleeps
    return bleeps.filter(Q(sender=user) | Q(deliveries__recipient=user)).distinct()


def access_bleep(user: Person, bleep_id: int) -> Bleep:
    """Return the bleep if `user` may see it; raise BleepNotFound otherwise, never 'forbidden'."""
    bleep = visible_bleeps(user).filter(pk=bleep_id).first()
    if bleep is None:
        raise BleepNotFound()
    return bleep


def load_bleep(bleep_id: int) -> Bleep:
    """Return a bleep with what its summary shows, for building its events (no access check)."""
    return (
        Bleep.objects.select_related(*BLEEP_RELATIONS)
        .prefetch_related("deliveries__recipient")
        .get(pk=bleep_id)
    )


def access_bleep_with_thread(user: Person, bleep_id: int) -> Bleep:
    """Return a bleep `user` may see with its replies and history loaded, for showing it whole."""
    bleep = access_bleep(user, bleep_id)
    prefetch_related_objects([bleep], "replies__author", "history__actor", "history__device")
    return bleep


def access_delivery(user: Person, bleep_id: int) -> Delivery:
    """Return `user`'s own copy of a bleep they may see, for answering it."""
    bleep = access_bleep(user, bleep_id)
    # The deliveries are prefetched by `access_bleep`: no second query.
    delivery = next((d for d in bleep.deliveries.all() if d.recipient_id == user.pk), None)
    if delivery is None:
        raise NotARecipient()
    return delivery


def live_devices_of(user: Person) -> QuerySet[Device]:
    """Return `user`'s devices whose tokens still work, most recently seen first."""
    return Device.objects.filter(user=user, revoked_at__isnull=True).order_by("-last_seen_at")


def access_device(user: Person, device_id: int) -> Device:
    """Return one of `user`'s own live devices; anyone else's is not found."""
    device = live_devices_of(user).filter(pk=device_id).first()
    if device is None:
        raise DeviceNotFound()
    return device


def find_target(
    *, role_id: int | None = None, bleep_number: str | None = None, person_id: int | None = None
) -> tuple[Role | None, Person | None]:
    """Return the role or the person a send names; raise RoleNotFound or PersonNotFound."""
    if person_id is not None:
        return None, get_person(person_id=person_id)
    return get_role(role_id=role_id, bleep_number=bleep_number), None


def find_sent_bleep(*, sender: Person, idempotency_key: str) -> Bleep | None:
    """Return the bleep `sender` already sent with this idempotency key, if any."""
    return Bleep.objects.filter(sender=sender, idempotency_key=idempotency_key).first()


def sent_bleeps_of(user: Person) -> QuerySet[Bleep]:
    """Return the bleeps `user` sent, newest first."""
    return (
        Bleep.objects.filter(sender=user)
        .select_related(*BLEEP_RELATIONS)
        .prefetch_related("deliveries__recipient")
        .order_by("-created_at", "-pk")
    )


def open_bleeps() -> QuerySet[Bleep]:
    """Return every open bleep by priority, oldest first within each (switchboard's board).

    Sliced to a page, only that page's rows, deliveries and recipients are read.
    """
    return (
        Bleep.objects.filter(status=BleepStatus.OPEN)
        .select_related(*BLEEP_RELATIONS)
        .prefetch_related("deliveries__recipient")
        .order_by(BY_PRIORITY, "created_at", "pk")
    )


def open_bleeps_for(user: Person) -> QuerySet[Bleep]:
    """Return the open bleeps sent to `user` by priority, newest first within each."""
    # One delivery per recipient of a bleep (a constraint): the join repeats no bleep,
    # so no DISTINCT, which made the database sort every open bleep of the user twice.
    return (
        Bleep.objects.filter(deliveries__recipient=user, status=BleepStatus.OPEN)
        .select_related(*BLEEP_RELATIONS)
        .prefetch_related("deliveries__recipient")
        .order_by(BY_PRIORITY, "-created_at", "-pk")
    )


def count_emergencies(bleeps: QuerySet[Bleep]) -> int:
    """Return how many of `bleeps` are emergencies."""
    return bleeps.filter(priority=Priority.EMERGENCY).count()


def snapshot_for(user: Person) -> tuple[int, list[Bleep]]:
    """Return `user`'s newest stream number, then the open bleeps they sent or were sent."""
    head = last_seq(user.pk)
    if head == 0:
        # Everyone in a bleep gets an event in their stream when they join it: an empty
        # stream means no bleeps, and a reconnect storm of such phones skips the search.
        return head, []
    bleeps = (
        visible_bleeps(user)
        .filter(Q(sender=user) | Q(deliveries__recipient=user), status=BleepStatus.OPEN)
        .order_by("-created_at")
    )
    return head, list(bleeps)


def events_after(user_id: int, seq: int, *, upto: int | None = None) -> list[StreamEvent]:
    """Return `user_id`'s stored events numbered after `seq` (and up to `upto`), in order."""
    events = StreamEvent.objects.filter(user_id=user_id, seq__gt=seq)
    if upto is not None:
        events = events.filter(seq__lte=upto)
    return list(events.order_by("seq")[:CATCH_UP_BATCH])


def last_seq(user_id: int) -> int:
    """Return the newest sequence number in `user_id`'s stream (0 when empty)."""
    newest = StreamEvent.objects.filter(user_id=user_id).order_by("-seq").first()
    return newest.seq if newest else 0


def push_subscriptions_of(user: Person) -> QuerySet[PushSubscription]:
    """Return the push subscriptions of `user`'s live devices, newest first."""
    return (
        PushSubscription.objects.filter(device__user=user, device__revoked_at__isnull=True)
        .select_related("device")
        .order_by("-created_at", "-pk")
    )


def access_push_subscription(user: Person, subscription_id: int) -> PushSubscription:
    """Return one push subscription of `user`'s own live devices; anyone else's is not found."""
    subscription = push_subscriptions_of(user).filter(pk=subscription_id).first()
    if subscription is None:
        raise PushSubscriptionNotFound()
    return subscription


def next_push_due(*, after: datetime | None = None) -> datetime | None:
    """Return when the earliest pending push is due (None when none is), or the earliest
    due later than `after`, to sleep until then."""
    pending = PushMessage.objects.filter(status=PushStatus.PENDING)
    if after is not None:
        pending = pending.filter(due_at__gt=after)
    return pending.order_by("due_at").values_list("due_at", flat=True).first()


@dataclass(frozen=True)
class PushBacklog:
    """The pushes due and not yet sent: how many, since when, and whether that is too late."""

    due: int
    oldest_due_at: datetime | None
    late: bool


def push_backlog(*, now: datetime) -> PushBacklog:
    """Return the pushes due at `now` and not yet sent or being sent, in one query."""
    # Pushes a sender is posting are leased into the future, so not counted: what is left
    # is waiting for a sender.
    found = PushMessage.objects.filter(status=PushStatus.PENDING, due_at__lte=now).aggregate(
        due=Count("pk"), oldest=Min("due_at")
    )
    oldest = found["oldest"]
    return PushBacklog(
        due=found["due"],
        oldest_due_at=oldest,
        late=oldest is not None and now - oldest > PUSH_LATE_AFTER,
    )


def recent_send_times(*, sender: Person, since: datetime, newest: int) -> list[datetime]:
    """Return when `sender` sent after `since`, newest first, at most `newest` of them.

    A team call is one send, not one per role it bleeps.
    """
    bleeps = Bleep.objects.filter(sender=sender, created_at__gt=since, team_call__isnull=True)
    calls = TeamCall.objects.filter(sender=sender, created_at__gt=since)
    # One statement on a send's path: the union of both, newest first.
    times = (
        bleeps.values_list("created_at", flat=True)
        .union(calls.values_list("created_at", flat=True), all=True)
        .order_by("-created_at")[:newest]
    )
    return list(times)


def sends_since(*, sender: Person, since: datetime) -> tuple[int, datetime | None]:
    """Return how many sends `sender` made after `since` (a team call is one), and the first."""
    bleeps = Bleep.objects.filter(sender=sender, created_at__gt=since, team_call__isnull=True)
    calls = TeamCall.objects.filter(sender=sender, created_at__gt=since)
    counted = [
        found.aggregate(count=Count("pk"), first=Min("created_at")) for found in (bleeps, calls)
    ]
    firsts = [found["first"] for found in counted if found["first"] is not None]
    return sum(found["count"] for found in counted), min(firsts, default=None)


def bleeps_to_role_since(*, role: Role, since: datetime) -> tuple[int, datetime | None]:
    """Return how many bleeps went to `role` after `since`, from anyone, and when the first did."""
    found = Bleep.objects.filter(role=role, created_at__gt=since).aggregate(
        count=Count("pk"), first=Min("created_at")
    )
    return found["count"], found["first"]


def switchboard_operator_ids() -> list[int]:
    """Return the ids of every active switchboard operator."""
    return list(every_operator().values_list("pk", flat=True))


def recent_flood_alerts(*, since: datetime) -> QuerySet[FloodAlert]:
    """Return the flood alerts with a bleep after `since`, the latest first."""
    alerts = FloodAlert.objects.filter(last_at__gt=since).select_related("sender", "role")
    return alerts.order_by("-last_at", "-pk")


def contact_points_of(person: Person) -> QuerySet[ContactPoint]:
    """Return `person`'s numbers for text and pager messages."""
    return ContactPoint.objects.filter(person=person).order_by("kind", "pk")


def access_contact_point(person: Person, contact_id: int) -> ContactPoint:
    """Return one of `person`'s numbers, or raise ContactNotFound for any other."""
    contact = ContactPoint.objects.filter(pk=contact_id, person=person).first()
    if contact is None:
        raise ContactNotFound
    return contact


def _sees_everyone(person: Person) -> bool:
    return person.is_superuser or person.job in (Person.Job.SWITCHBOARD, Person.Job.AUDITOR)


def visible_shift_warnings(person: Person) -> QuerySet[ShiftWarning]:
    """Return the open warnings of people Bleep cannot reach for a coming shift, soonest
    first: all of them for switchboard and auditors, a rota manager's teams', one's own."""
    warnings = (
        ShiftWarning.objects.filter(resolved_at__isnull=True)
        .select_related("shift__role", "person")
        .order_by("shift__start", "pk")
    )
    if _sees_everyone(person):
        return warnings
    return warnings.filter(Q(shift__role__team__in=managed_teams(person)) | Q(person=person))


def rostered_without_number(
    person: Person, *, now: datetime, within: timedelta, kinds: list[str]
) -> QuerySet[Person]:
    """Return who holds a shift from `now` to `within` ahead with no verified, usable number
    of `kinds`, among the people `person` may see that of (as `visible_shift_warnings`)."""
    shifts = Shift.objects.filter(end__gt=now, start__lt=now + within)
    if not _sees_everyone(person):
        shifts = shifts.filter(role__team__in=managed_teams(person))
    numbered = ContactPoint.objects.filter(
        kind__in=kinds, verified_at__isnull=False, unusable_at__isnull=True
    ).values("person_id")
    return (
        Person.objects.filter(pk__in=shifts.values("person_id"), is_active=True)
        .exclude(pk__in=numbered)
        .order_by("last_name", "first_name", "pk")
    )
