"""Imports as jobs: a request stores the file as a row and a worker applies it.

A rota file of 10,000 shifts takes a minute or more to apply; in a request it held a
request thread all that time, and four of them held every thread while a nurse's emergency
waited (docs/safety/, HZ-16). Here the request only stores the file, and a worker applies
it on a thread of its own, never the one that fires escalation steps.
"""

import logging
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Q

from rota.exceptions import InvalidRotaData, RotaError
from rota.models import ImportJob, Person, Role
from rota.permissions import require_may_import
from rota.selectors import Gap
from rota.services.calendars import csv_format, ical_format
from rota.services.calendars.applying import (
    ImportReport,
    Outcome,
    PlannedShift,
    Skipped,
    check_size,
)

logger = logging.getLogger(__name__)

# A finished job's report lists this many shifts and skipped events and counts the rest:
# the counts say what happened, and a 10,000-line answer is more than anyone reads.
REPORT_MAX_ITEMS = 500


def queue_import(
    *, actor: Person, kind: ImportJob.Kind, data: str, options: dict[str, Any], now: datetime
) -> ImportJob:
    """Store a rota file for a worker to import; return its job, queued.

    Only a rota manager may import (each shift is checked against their scope when the
    file is applied). `options` are the import's: dry_run, move_shifts, accept_gaps and,
    for iCal, role and person (ids).
    """
    require_may_import(actor)
    check_size(data)
    return ImportJob.objects.create(
        owner=actor, kind=kind, data=data, options=options, created_at=now
    )


def run_next_import(*, now: datetime) -> ImportJob | None:
    """Apply the oldest waiting import, if any; return its job, finished.

    The file is applied and the job marked finished in one transaction, holding the job's
    row: a worker that dies part-way leaves nothing applied and the job to be run again,
    and two workers that both take a job apply it once (the second waits for the row, then
    finds it finished).
    """
    job_id = _claim(now)
    if job_id is None:
        return None
    with transaction.atomic():
        job = ImportJob.objects.select_for_update().get(pk=job_id)
        if job.status != ImportJob.Status.RUNNING:
            return job
        job.report, job.errors = _apply(job, now)
        job.status = ImportJob.Status.FAILED if job.errors else ImportJob.Status.DONE
        job.data = ""
        job.finished_at = now
        job.save(update_fields=["report", "errors", "status", "data", "finished_at"])
    return job


def _claim(now: datetime) -> int | None:
    """Mark the oldest waiting job running and return its id; a running job whose worker
    died is not locked, so it is taken again."""
    with transaction.atomic():
        job = (
            ImportJob.objects.select_for_update(skip_locked=True)
            .filter(Q(status=ImportJob.Status.QUEUED) | Q(status=ImportJob.Status.RUNNING))
            .order_by("created_at", "pk")
            .only("pk", "status")
            .first()
        )
        if job is None:
            return None
        ImportJob.objects.filter(pk=job.pk).update(status=ImportJob.Status.RUNNING, started_at=now)
    return job.pk


def _apply(job: ImportJob, now: datetime) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
    """Import the job's file in a savepoint; return its report, or the error as an API body."""
    try:
        with transaction.atomic():
            report = _import(job, now)
    except InvalidRotaData as error:
        return None, {"code": "invalid", "detail": str(error), "fields": error.errors}
    except RotaError as error:
        return None, {"code": "invalid", "detail": str(error) or type(error).__name__}
    except PermissionDenied:
        return None, {"code": "forbidden", "detail": "a shift of this file is outside your rota"}
    except Exception:
        # A fault of ours: logged with its traceback, and the job ends rather than retrying
        # a file that fails the same way for ever.
        logger.exception("rota import job %s failed", job.pk)
        return None, {"code": "server_error", "detail": "something went wrong on the server"}
    return describe_report(report), None


def _import(job: ImportJob, now: datetime) -> ImportReport:
    options = dict(job.options)
    if job.kind == ImportJob.Kind.CSV:
        return csv_format.import_csv(actor=job.owner, text=job.data, now=now, **options)
    role_id, person_id = options.pop("role", None), options.pop("person", None)
    role = Role.objects.get(pk=role_id) if role_id is not None else None
    person = Person.objects.get(pk=person_id) if person_id is not None else None
    return ical_format.import_ical(
        actor=job.owner, data=job.data, now=now, role=role, person=person, **options
    )


def describe_report(report: ImportReport) -> dict[str, Any]:
    """Return what an import did as the job's stored report (docs/rota.md)."""
    window = report.recurrence_window
    return {
        "dry_run": report.dry_run,
        "created": report.count(Outcome.CREATED),
        "updated": report.count(Outcome.UPDATED),
        "unchanged": report.count(Outcome.UNCHANGED),
        "skipped": report.skipped_occurrences(),
        "shifts": [_shift(plan) for plan in report.shifts[:REPORT_MAX_ITEMS]],
        "shifts_not_shown": max(len(report.shifts) - REPORT_MAX_ITEMS, 0),
        "skipped_events": [_skipped(skip) for skip in report.skipped[:REPORT_MAX_ITEMS]],
        "skipped_events_not_shown": max(len(report.skipped) - REPORT_MAX_ITEMS, 0),
        "recurrence_window": (
            None if window is None else {"from": _instant(window.start), "to": _instant(window.end)}
        ),
        "gaps": [_gap(gap) for gap in report.gaps],
    }


def _instant(at: datetime) -> str:
    """Return an instant as every API answer writes one: ISO 8601, UTC as Z."""
    return at.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _role(role: Role) -> dict[str, Any]:
    return {
        "id": role.pk,
        "name": role.name,
        "bleep_number": role.bleep_number,
        "team": role.team.name,
    }


def _shift(plan: PlannedShift) -> dict[str, Any]:
    person = plan.person
    return {
        "where": plan.label,
        "uid": plan.uid,
        "outcome": plan.outcome.value,
        "shift_id": plan.shift_id,
        "role": _role(plan.role),
        "person": {
            "id": person.pk,
            "username": person.username,
            "name": str(person),
            "job": person.job,
        },
        "start": _instant(plan.start),
        "end": _instant(plan.end),
    }


def _skipped(skip: Skipped) -> dict[str, Any]:
    return {
        "where": skip.label,
        "uid": skip.uid,
        "reason": skip.reason.value,
        "occurrences": skip.occurrences,
    }


def _gap(gap: Gap) -> dict[str, Any]:
    zone = ZoneInfo(gap.role.site.time_zone)
    return {
        "role": _role(gap.role),
        "start": _instant(gap.start),
        "end": _instant(gap.end),
        "start_local": gap.start.astimezone(zone).isoformat(),
        "end_local": gap.end.astimezone(zone).isoformat(),
    }
