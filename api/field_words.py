"""What each field of the API means, for the OpenAPI schema (api.schema.describe_fields).

A serializer's own help_text wins; these fill in the rest. Fields that mean the same
wherever they appear (`id`, `created_at`, a bleep's `message`) are described once by name;
a name that means something else in one object is described for that object
("Component.field"). Times are UTC, in ISO 8601.
"""

BY_NAME: dict[str, str] = {
    "id": "Its id, stable for its life.",
    "name": "Its name, as people see it.",
    "created_at": "When it was created (UTC).",
    "updated_at": "When it last changed (UTC).",
    "site": "The hospital site (its id) it belongs to.",
    "team": "The team (its id) it belongs to.",
    "time_zone": "The site's IANA time zone, such as Europe/London: rota times are read in it.",
    "swaps_need_approval": "Whether a swap between two of the team's people waits for a rota "
    "manager's approval.",
    "bleep_number": "The number people bleep to reach the role, such as 2345.",
    "fallback": "The role (its id) a bleep goes up to when nobody holds this one; null at the top.",
    "start": "When it starts (UTC).",
    "end": "When it ends (UTC); exclusive.",
    "message": "What the sender needs, in their words (at most 500 characters).",
    "location": "The ward (a location id) the bleep is about; null when not given.",
    "bed": "The bed, as the ward names it; empty when not given.",
    "callback_extension": "The extension to call back on (1 to 10 digits); empty when not given.",
    "nhs_number": "The patient's NHS number (10 digits, checked); empty when not given. "
    "Shown to the bleep's people only; never in a push or a log.",
    "priority": "routine, urgent or emergency.",
    "sender": "Who sent it.",
    "acknowledged_by": "Who acknowledged it; null while nobody has.",
    "answering_role": "The role its recipients answer as, when it went to a role.",
    "deliveries": "Each recipient's copy and where it has got to.",
    "handling": "Who at switchboard has taken it on, and what they are doing.",
    "team_call": "The emergency team call (its id) it is part of; null for a single bleep.",
    "replies": "Its thread: each reply, oldest first.",
    "history": "Everything that happened to it and its copies, oldest first; append-only.",
    "escalation": "How far its escalation has gone and what comes next; null with no plan.",
    "eta_minutes": "How many minutes until the recipient arrives; null when not given.",
    "comment": "A word with the acknowledgement for the sender, such as 'coming'.",
    "decline_reason": "Why the recipient declined; empty unless declined.",
    "recipient": "The person this copy is for.",
    "text": "What the reply says.",
    "uid": "The calendar event's UID in the imported file.",
    "username": "The person's sign-in name.",
    "password": "The person's password; never stored or logged as given.",
    "device_name": "A name for this phone, so its owner can tell it apart and sign it out.",
    "endpoint": "The push service URL of this browser's subscription (from PushManager).",
    "last_seen_at": "When the device last used its token (UTC).",
    "steps": "What happens and when if nobody acknowledges, in order.",
    "repeat": "How many more times the steps run after the first time (0 to 10).",
    "after_emergency_seconds": "Seconds after the previous step for an emergency bleep.",
    "after_urgent_seconds": "Seconds after the previous step for an urgent bleep.",
    "after_routine_seconds": "Seconds after the previous step for a routine bleep.",
    "target_role": "The role (its id) an escalate step brings in; null for the next role up.",
    "target_team": "The team (its id) a broadcast_team step bleeps.",
    "pattern": "The recurring pattern (its id) this shift was made from; null if made by hand.",
    "anchor_date": "The date the rotation starts counting from.",
    "holders": "Who holds the role now; empty when nobody does (bleeps go up its fallback).",
    "counterpart_shift": "The shift (its id) offered in return; null for a give-away.",
    "decided_at": "When a rota manager approved or rejected it; null until then.",
    "decided_by": "The rota manager who decided it; null until then.",
    "started_at": "When the import started (UTC).",
    "finished_at": "When the import finished (UTC); null while it runs.",
    "dry_run": "Whether nothing was saved: a preview of what the import would do.",
    "created": "How many shifts it made.",
    "updated": "How many shifts it changed.",
    "unchanged": "How many shifts it left as they were.",
    "removed": "How many shifts it took away.",
    "shifts": "The shifts it made or would make.",
    "shifts_not_shown": "How many more shifts there are than the list shows.",
    "skipped_events": "Calendar events it could not use, each with why.",
    "skipped_events_not_shown": "How many more were skipped than the list shows.",
    "first_at": "When the flood began (UTC).",
    "last_at": "The latest bleep of the flood (UTC).",
    "raised_at": "When switchboard was alerted (UTC).",
    "since": "When switchboard took it on (UTC).",
    "note": "What switchboard is doing, such as 'phoning the team'.",
    "bleeps": "The bleeps the call made, one for each role of the team.",
}

BY_FIELD: dict[str, str] = {
    "Bleep.id": "The bleep's id.",
    "Bleep.role": "The role bleeped; null when it went to a person.",
    "Bleep.person": "The person bleeped by name; null when it went to a role.",
    "Bleep.location": "The ward it is about; null when not given.",
    "Bleep.status": "open, acknowledged or cancelled.",
    "SendBleep.role": "The role to bleep (its id); or give bleep_number.",
    "SendBleep.location": "The ward (a location id) it is about.",
    "TeamCall.location": "The ward (a location id) the team is called to.",
    "TeamCall.message": "What the team is called for, such as 'Cardiac arrest'.",
    "TeamCallOut.team": "The team called.",
    "TeamCallOut.created_at": "When the team was called (UTC).",
    "Delivery.status": "sent, delivered, read, handling, acknowledged, declined or cancelled.",
    "Delivery.id": "The copy's id.",
    "Shift.role": "The role held during the shift.",
    "Shift.person": "Who holds the role during the shift.",
    "Feed.role": "The role whose shifts the feed lists; null for a person's feed.",
    "Feed.person": "The person whose shifts the feed lists; null for a role's feed.",
    "Pattern.role": "The role the pattern's shifts are for.",
    "Policy.role": "The role it governs; or team or site.",
    "Policy.team": "The team whose roles it governs when they have none of their own.",
    "Policy.site": "The site whose roles it governs when neither they nor their team have one.",
    "FloodAlert.role": "The role flooded with bleeps; null for a sender's flood.",
    "FloodAlert.sender": "The sender past the send limit; null for a role's flood.",
    "FloodAlert.detail": "The alert in words, as switchboard reads it.",
    "HistoryEntry.action": "What happened (see the `words` of /api/me for the app's words).",
    "HistoryEntry.actor": "Who did it; null when Bleep did (a step, a receipt).",
    "HistoryEntry.at": "When it happened (UTC).",
    "HistoryEntry.delivery": "The copy it happened to; null for the bleep itself.",
    "HistoryEntry.device": "The device it was done from, when a person did it.",
    "HistoryEntry.detail": "What else is known, such as the step number or who was added.",
    "HistoryEntry.from_status": "The status before; empty for the first entry.",
    "HistoryEntry.to_status": "The status after.",
    "RotaChange.action": "What was done: create, update or delete.",
    "RotaChange.actor": "Who did it.",
    "RotaChange.at": "When (UTC).",
    "RotaChange.model": "What kind of record changed, such as shift or role.",
    "RotaChange.object_id": "The changed record's id.",
    "RotaChange.before": "The record before the change; null for a creation.",
    "RotaChange.after": "The record after the change; null for a deletion.",
    "ImportJob.created_at": "When the import was asked for (UTC).",
}


# Query parameters that filter a list, by name.
BY_QUERY: dict[str, str] = {
    "model": "Only changes to this kind of record, such as shift or role.",
    "object_id": "Only changes to the record with this id (give model too).",
    "person": "Only the shifts of this person (their id).",
    "role": "Only the shifts of this role (its id).",
}
# Objects that are another's input or answer, with its fields' meanings.
SAME_AS = {
    "FeedCreated": "Feed",
    "PatternInput": "Pattern",
    "PatternChanges": "Pattern",
    "OpenBleep": "Bleep",
    "BleepDetail": "Bleep",
}


def description(component: str, field: str) -> str | None:
    """Return what `field` of `component` means, or None when nothing here says."""
    base = component.removeprefix("Patched")
    base = SAME_AS.get(base, base)
    for key in (f"{component}.{field}", f"{base}.{field}"):
        if key in BY_FIELD:
            return BY_FIELD[key]
    return BY_NAME.get(field)
