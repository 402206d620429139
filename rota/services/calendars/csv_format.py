"""Shifts as CSV: export in the sites' wall-clock time with UTC offsets, and import.

A CSV carries the site's wall-clock time with its UTC offset, so the repeated autumn hour
is unambiguous; a time without an offset follows the rule in rota.wallclock.
"""

import csv
import io
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from rota.exceptions import InvalidRotaData
from rota.models import Person, Shift
from rota.services.calendars.applying import (
    UID_MAX_LENGTH,
    Directory,
    ImportOptions,
    ImportReport,
    ReadFile,
    RowErrors,
    ShiftLine,
    apply_lines,
    check_shift_count,
    check_size,
    own_uid,
)
from rota.wallclock import to_utc, to_wall_clock

CSV_TIME_FORMAT = "%Y-%m-%d %H:%M"
CSV_COLUMNS = ["role", "person", "start", "start_offset", "end", "end_offset", "uid"]
CSV_REQUIRED_COLUMNS = {"role", "person", "start", "end"}


def export_csv(*, shifts: Iterable[Shift]) -> str:
    """Return the shifts as CSV in their sites' wall-clock time, each time with its offset."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for shift in shifts:
        zone = ZoneInfo(shift.role.site.time_zone)
        start, end = to_wall_clock(shift.start, zone), to_wall_clock(shift.end, zone)
        writer.writerow(
            [
                shift.role.bleep_number,
                shift.person.username,
                f"{start:{CSV_TIME_FORMAT}}",
                format_offset(start),
                f"{end:{CSV_TIME_FORMAT}}",
                format_offset(end),
                own_uid(shift),
            ]
        )
    return out.getvalue()


def format_offset(wall: datetime) -> str:
    """Return a wall-clock time's UTC offset as ±HH:MM."""
    offset = wall.utcoffset() or timedelta(0)
    minutes = int(offset.total_seconds()) // 60
    sign = "-" if minutes < 0 else "+"
    return f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def import_csv(
    *,
    actor: Person,
    text: str,
    now: datetime,
    dry_run: bool,
    move_shifts: bool = False,
    accept_gaps: bool = False,
) -> ImportReport:
    """Create or update the shifts of a CSV file, all or nothing; see docs/rota.md.

    `move_shifts` lets a row's uid move another role's shift; `accept_gaps` lets the import
    leave a role without a holder where it had one. Owns its transaction: every shift and
    its audit entry commit together, or none does.
    """
    check_size(text)
    errors = RowErrors()
    read = ReadFile(_read_csv(text.removeprefix("\ufeff"), errors))
    options = ImportOptions(dry_run=dry_run, move_shifts=move_shifts, accept_gaps=accept_gaps)
    return apply_lines(actor=actor, read=read, errors=errors, now=now, options=options)


def _read_csv(text: str, errors: RowErrors) -> list[ShiftLine]:
    """Return the CSV's shift lines, adding each bad cell to `errors` as "row N: column"."""
    reader = csv.DictReader(io.StringIO(text))
    reader.fieldnames = [name.strip().lower() for name in reader.fieldnames or []]
    missing = sorted(CSV_REQUIRED_COLUMNS - set(reader.fieldnames))
    # A misspelt offset column must not be dropped: it would move shifts by an hour.
    unknown = sorted(set(reader.fieldnames) - set(CSV_COLUMNS))
    if missing or unknown:
        messages = [f"missing column {name!r}" for name in missing]
        messages += [f"unknown column {name!r}; columns are {CSV_COLUMNS}" for name in unknown]
        raise InvalidRotaData({"header": messages})
    directory, lines = Directory(), []
    for count, row in enumerate(reader, start=1):
        check_shift_count(count)
        label = f"row {reader.line_num}"
        if None in row:
            errors.add(label, "row", "more cells than columns")
            continue
        cells = {name: (value or "").strip() for name, value in row.items()}
        if any(cells.values()):
            line = _csv_line(label, cells, directory, errors)
            if line is not None:
                lines.append(line)
    return lines


def _csv_line(
    label: str, cells: dict[str, str], directory: Directory, errors: RowErrors
) -> ShiftLine | None:
    role = directory.role(cells["role"], label, errors) if cells["role"] else None
    person = directory.person(cells["person"], label, errors) if cells["person"] else None
    for name in ("role", "person", "start", "end"):
        if not cells[name]:
            errors.add(label, name, "required")
    zone = ZoneInfo(role.site.time_zone) if role else None
    start = _csv_time(cells, "start", zone, label, errors)
    end = _csv_time(cells, "end", zone, label, errors)
    uid = cells.get("uid", "")
    if len(uid) > UID_MAX_LENGTH:
        errors.add(label, "uid", f"at most {UID_MAX_LENGTH} characters")
        return None
    if role is None or person is None or start is None or end is None:
        return None
    return ShiftLine(label, uid, role, person, start, end)


def _csv_time(
    cells: dict[str, str], name: str, zone: ZoneInfo | None, label: str, errors: RowErrors
) -> datetime | None:
    """Return a cell's UTC instant: by its offset column when filled, else the wall-clock rule."""
    if not cells[name]:
        return None
    try:
        wall = datetime.strptime(cells[name], CSV_TIME_FORMAT)
    except ValueError:
        errors.add(label, name, f"not a time like 2026-03-28 20:00: {cells[name]!r}")
        return None
    offset_text = cells.get(f"{name}_offset", "")
    if zone is None:
        return None
    if not offset_text:
        return to_utc(day=wall.date(), at=wall.time(), zone=zone)
    try:
        offset = datetime.strptime(offset_text, "%z").utcoffset() or timedelta(0)
    except ValueError:
        errors.add(label, f"{name}_offset", f"not an offset like +01:00: {offset_text!r}")
        return None
    instant = (wall - offset).replace(tzinfo=UTC)
    if instant.astimezone(zone).replace(tzinfo=None) != wall:
        # A hand-edited offset that the site's clock never shows is a mistake, not a time.
        errors.add(label, f"{name}_offset", _offset_mismatch(wall, zone))
        return None
    return instant


def _offset_mismatch(wall: datetime, zone: ZoneInfo) -> str:
    shown = to_utc(day=wall.date(), at=wall.time(), zone=zone).astimezone(zone)
    if shown.replace(tzinfo=None) != wall:
        return f"{wall:{CSV_TIME_FORMAT}} does not exist in {zone.key}: the clocks go forward"
    return f"{wall:{CSV_TIME_FORMAT}} is {format_offset(shown)} in {zone.key}"
