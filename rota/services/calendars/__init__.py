"""Calendars in and out: CSV and iCal exports, all-or-nothing imports, and secret feeds.

Shifts are stored in UTC. A CSV carries the site's wall-clock time with its UTC offset, so
the repeated autumn hour is unambiguous; a CSV time without an offset, and a floating or
TZID time in iCal, follows the rule in rota.wallclock. Every imported shift is written
through write_record, so the rota rules and the audit apply as to any other change, once
the line has passed the importer's scope (rota.permissions.may_change).

Modules: applying (what every import shares), csv_format, ical_format, feeds. The feeds'
reads are in rota.selectors, who may read one in rota.permissions.
"""
