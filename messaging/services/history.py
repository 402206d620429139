"""The history every transition appends to, its hash chain, and the helpers that move a
bleep or a delivery."""

import hashlib
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import groupby
from typing import Any, NotRequired, TypedDict, Unpack

from django.db import transaction
from django.db.models import Exists, OuterRef

from bleep import metrics
from messaging.actions import Action
from messaging.models import (
    Bleep,
    BleepStatus,
    Delivery,
    DeliveryStatus,
    Device,
    HistoryEntry,
    HistoryHead,
)
from messaging.states import BLEEP_TRANSITIONS, DELIVERY_TRANSITIONS, next_status
from rota.models import Person

# What an entry's hash covers besides the hash before it, in this order: everything it
# says, and nothing the database gives it (its own id).
CHAINED_FIELDS = (
    "bleep_id",
    "delivery_id",
    "actor_id",
    "device_id",
    "action",
    "from_status",
    "to_status",
    "at",
    "detail",
)
# What a bleep's first entry follows.
CHAIN_START = ""


def participants(bleep: Bleep) -> list[int]:
    """Return the ids of everyone in a bleep: its sender and every recipient."""
    # `all()` reads deliveries already loaded with the bleep instead of asking again.
    return [bleep.sender_id, *(delivery.recipient_id for delivery in bleep.deliveries.all())]


def move_bleep(
    *, bleep: Bleep, actor: Person, device: Device | None, action: Action, now: datetime
) -> None:
    """Move a bleep by `action` through its transition table, save it and record the move."""
    from_status = bleep.status
    bleep.status = next_status(BLEEP_TRANSITIONS, BleepStatus(from_status), action)
    bleep.save()
    record(
        bleep=bleep,
        actor=actor,
        device=device,
        action=action,
        from_status=from_status,
        to_status=bleep.status,
        now=now,
    )


def move_delivery(
    *,
    delivery: Delivery,
    device: Device | None,
    action: Action,
    now: datetime,
    actor: Person | None = None,
    reason: str = "",
) -> None:
    """Move a delivery by `action` through its transition table, save it and record the move."""
    from_status = delivery.status
    delivery.status = next_status(DELIVERY_TRANSITIONS, DeliveryStatus(from_status), action)
    delivery.updated_at = now
    delivery.save()
    record(
        bleep=delivery.bleep,
        delivery=delivery,
        actor=actor or (device.user if device else None),
        device=device,
        action=action,
        from_status=from_status,
        to_status=delivery.status,
        now=now,
        detail={"reason": reason} if reason else None,
    )


class EntryFields(TypedDict):
    """What one history entry says: who did what to a bleep (or one of its deliveries), when."""

    bleep: Bleep
    actor: Person | None
    device: Device | None
    action: Action
    to_status: str
    now: datetime
    delivery: NotRequired[Delivery | None]
    from_status: NotRequired[str]
    detail: NotRequired[dict[str, object] | None]


def record(**fields: Unpack[EntryFields]) -> HistoryEntry:
    """Append one entry to a bleep's history; nothing ever changes or deletes it.

    Runs in the caller's transaction, which holds the bleep's lock (see `record_all`).
    """
    entry = history_entry(**fields)
    with transaction.atomic(savepoint=False):
        _chain(bleep_id=entry.bleep_id, entries=[entry])
        entry.save()
    return entry


def record_channel_outcome(
    *,
    bleep_id: int,
    recipient_id: int,
    action: Action,
    channel: str,
    outcome: str,
    why: str,
    now: datetime,
) -> HistoryEntry:
    """Append what became of a push, text or page (`action`: PUSH or FALLBACK) to its
    bleep's history, on the recipient's copy: nothing about the bleep moves.

    Runs in the caller's transaction, and takes the bleep's lock for its history's chain.
    """
    bleep = Bleep.objects.select_for_update().get(pk=bleep_id)
    delivery = Delivery.objects.filter(bleep=bleep, recipient_id=recipient_id).first()
    detail: dict[str, object] = {"channel": channel, "outcome": outcome}
    if why:
        detail["why"] = why[:200]
    metrics.count_channel_send(channel=channel, outcome=outcome)
    return record(
        bleep=bleep,
        actor=None,
        device=None,
        action=action,
        from_status=bleep.status,
        to_status=bleep.status,
        delivery=delivery,
        detail=detail,
        now=now,
    )


def record_all(entries: Sequence[HistoryEntry]) -> list[HistoryEntry]:
    """Append several entries to the history in one INSERT, in the order given.

    Runs in the caller's transaction, which holds the lock of each bleep the entries are
    about, so that bleep's chain has one end to follow: each bleep's entries are chained
    after its head in the order given, and the head moves on in the same transaction.
    """
    by_bleep: dict[int, list[HistoryEntry]] = {}
    for entry in entries:
        by_bleep.setdefault(entry.bleep_id, []).append(entry)
    with transaction.atomic(savepoint=False):
        for bleep_id, chained in by_bleep.items():
            _chain(bleep_id=bleep_id, entries=chained)
        return HistoryEntry.objects.bulk_create(entries)


def history_entry(**fields: Unpack[EntryFields]) -> HistoryEntry:
    """Return an entry for the history, not yet stored: `record` or `record_all` store it."""
    return HistoryEntry(
        bleep=fields["bleep"],
        delivery=fields.get("delivery"),
        actor=fields["actor"],
        device=fields["device"],
        action=fields["action"],
        from_status=fields.get("from_status", ""),
        to_status=fields["to_status"],
        at=fields["now"],
        detail=fields.get("detail") or {},
    )


def chained_content(entry: HistoryEntry) -> tuple[Any, ...]:
    """Return what an entry's hash covers, in `CHAINED_FIELDS` order."""
    return tuple(getattr(entry, name) for name in CHAINED_FIELDS)


def chain_hash(prev_hash: str, content: Sequence[Any]) -> str:
    """Return the SHA-256 (hex) of the previous entry's hash and an entry's content.

    The content is written canonically, so the same entry read back from either database
    hashes the same: the time in UTC ISO 8601, the detail as JSON with sorted keys.
    """
    *plain, at, detail = content
    canonical = json.dumps(
        [prev_hash, *plain, at.astimezone(UTC).isoformat(), detail],
        sort_keys=True,
        separators=(",", ":"),
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


def _chain(*, bleep_id: int, entries: Sequence[HistoryEntry]) -> None:
    """Chain unsaved entries of one bleep after its head, in order, and move the head on."""
    # Locked as well as the bleep: two appends to one bleep that somehow both got past the
    # bleep's lock would still queue here rather than fork the chain.
    head = HistoryHead.objects.select_for_update().filter(pk=bleep_id).first()
    last = head.hash if head else CHAIN_START
    for entry in entries:
        entry.prev_hash = last
        entry.hash = last = chain_hash(last, chained_content(entry))
    if head is None:
        HistoryHead.objects.create(bleep_id=bleep_id, hash=last, length=len(entries))
    else:
        head.hash = last
        head.length += len(entries)
        head.save(update_fields=["hash", "length"])


@dataclass(frozen=True)
class Break:
    """A place where a bleep's stored history no longer holds together."""

    bleep_id: int
    entry_id: int | None
    problem: str

    def __str__(self) -> str:
        entry = f", entry {self.entry_id}" if self.entry_id is not None else ""
        return f"bleep {self.bleep_id}{entry}: {self.problem}"


@dataclass
class ChainCount:
    """How much of the history a check has read."""

    bleeps: int = 0
    entries: int = 0


# What the check reads of each entry: its bleep's head, then the entry and its chain.
CHECKED_COLUMNS = (
    "bleep_id",
    "bleep__history_head__hash",
    "bleep__history_head__length",
    "pk",
    "prev_hash",
    "hash",
    *CHAINED_FIELDS,
)


def find_history_breaks(*, count: ChainCount, chunk: int = 2000) -> Iterator[Break]:
    """Yield every break in every bleep's history chain, bleep by bleep, counting what it read.

    Streams the history in one statement (one snapshot, whatever is appended meanwhile),
    `chunk` rows at a time, so a year of it never sits in memory at once.
    """
    rows = (
        HistoryEntry.objects.order_by("bleep_id", "pk")
        .values_list(*CHECKED_COLUMNS)
        .iterator(chunk_size=chunk)
    )
    for _, of_one_bleep in groupby(rows, key=lambda row: row[0]):
        count.bleeps += 1
        yield from _chain_breaks(list(of_one_bleep), count=count)
    # A bleep whose every entry is gone is not in that stream. One sent meanwhile is not
    # found here either: a bleep's first entries commit with it.
    bare = Bleep.objects.filter(~Exists(HistoryEntry.objects.filter(bleep=OuterRef("pk"))))
    for bleep_id, length in bare.values_list("pk", "history_head__length").iterator(chunk):
        count.bleeps += 1
        head = "no head either" if length is None else f"its head says {length} entries"
        yield Break(bleep_id, None, f"has no history at all ({head}): every entry was removed")


def _chain_breaks(rows: Sequence[tuple[Any, ...]], *, count: ChainCount) -> Iterator[Break]:
    """Yield the breaks in one bleep's rows (`CHECKED_COLUMNS`), read in chain order."""
    bleep_id, head_hash, head_length = rows[0][:3]
    last, last_id, length = CHAIN_START, None, 0
    for entry_id, prev_hash, stored, *content in (row[3:] for row in rows):
        length += 1
        if prev_hash != last:
            after = f"entry {last_id}" if last_id is not None else "the start of the chain"
            yield Break(
                bleep_id,
                entry_id,
                f"does not follow {after}: an entry between them was removed, "
                "or this one was slipped in",
            )
        if chain_hash(prev_hash, content) != stored:
            yield Break(bleep_id, entry_id, "its content no longer matches its hash: changed")
        last, last_id = stored, entry_id
    count.entries += length
    if head_hash is None:
        yield Break(bleep_id, None, "has no chain head: it was removed")
    elif head_length != length:
        change = "removed from" if head_length > length else "added after"
        yield Break(
            bleep_id,
            last_id,
            f"its head says {head_length} entries but the chain has {length}, ending here: "
            f"{abs(head_length - length)} were {change} its end",
        )
    elif head_hash != last:
        yield Break(bleep_id, last_id, "the chain ends here, not where its head says")
