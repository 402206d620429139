"""Each rota write service refuses the wrong actor itself, with no view in front of it."""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import pytest

from rota.exceptions import ChangeNotAllowed, ImportNotAllowed
from rota.models import (
    ImportJob,
    Location,
    Pattern,
    PatternMember,
    Person,
    Role,
    RotaChange,
    RotaManagerScope,
    Shift,
    Site,
    Team,
)
from rota.services.calendars.jobs import queue_import
from rota.services.patterns import delete_pattern, expand_pattern, save_pattern
from rota.services.records import create_site, delete_record, save_record
from rota.services.swaps import cover_shift
from tests import factories

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
TOMORROW_8AM = datetime(2026, 3, 3, 8, 0, tzinfo=UTC)
MONDAY = date(2026, 6, 1)


@dataclass
class Hospital:
    """Medicine and Surgery on one site, a second site, and who works where."""

    site: Site
    medicine: Team
    registrar: Role
    surgeon: Role
    shift: Shift
    pattern: Pattern
    people: dict[str, Person]


# Everyone who may read Medicine's rota but not change it.
WRONG_ACTORS = ["nurse", "doctor", "auditor", "surgery_manager", "other_site_manager"]


@pytest.fixture
def hospital() -> Hospital:
    site, other_site = factories.make_site(), factories.make_site("Other General")
    medicine = factories.make_team("Medicine", site)
    surgery = factories.make_team("Surgery", site)
    switchboard = factories.make_role(
        "Switchboard", team=factories.make_team("Switchboard", site), kind=Role.Kind.SWITCHBOARD
    )
    registrar = factories.make_role("Medical Registrar", team=medicine, fallback=switchboard)
    surgeon = factories.make_role("Surgical Registrar", team=surgery, fallback=switchboard)
    jobs = {
        "nurse": Person.Job.NURSE,
        "doctor": Person.Job.DOCTOR,
        "colleague": Person.Job.DOCTOR,
        "auditor": Person.Job.AUDITOR,
    }
    people = {
        name: factories.make_person(name, job=jobs.get(name, Person.Job.ROTA_MANAGER))
        for name in [*WRONG_ACTORS, "colleague", "medicine_manager"]
    }
    RotaManagerScope.objects.create(person=people["medicine_manager"], team=medicine)
    RotaManagerScope.objects.create(person=people["surgery_manager"], team=surgery)
    RotaManagerScope.objects.create(person=people["other_site_manager"], site=other_site)
    shift = factories.make_shift(registrar, people["doctor"], TOMORROW_8AM)
    pattern = save_pattern(
        actor=people["medicine_manager"],
        pattern=Pattern(),
        changes={
            "role": registrar,
            "name": "Nights",
            "weekdays": [0, 1, 2],
            "start_time": time(20),
            "end_time": time(8),
            "rotation": Pattern.Rotation.EACH_WEEK,
            "anchor_date": MONDAY,
        },
        members=[people["colleague"]],
        now=NOW,
    )
    return Hospital(site, medicine, registrar, surgeon, shift, pattern, people)


def stored_rota() -> list[Any]:
    """Return every row a rota write could change, so a refusal can be seen to change none."""
    return [
        list(model.objects.order_by("pk").values())
        for model in (Site, Location, Team, Role, Shift, Pattern, PatternMember, RotaChange)
    ]


def create_a_shift(hospital: Hospital, actor: Person) -> object:
    shift = Shift(role=hospital.registrar, person=hospital.people["colleague"])
    changes = {"start": TOMORROW_8AM + timedelta(days=2), "end": TOMORROW_8AM + timedelta(days=3)}
    return save_record(actor=actor, instance=shift, changes=changes, now=NOW)


def change_a_shift(hospital: Hospital, actor: Person) -> object:
    changes = {"end": hospital.shift.end + timedelta(hours=1)}
    return save_record(actor=actor, instance=hospital.shift, changes=changes, now=NOW)


def delete_a_shift(hospital: Hospital, actor: Person) -> object:
    delete_record(actor=actor, instance=hospital.shift, now=NOW)
    return None


def create_a_role(hospital: Hospital, actor: Person) -> object:
    role = Role(site=hospital.site, team=hospital.medicine, name="Medical SHO", bleep_number="2")
    changes = {"fallback": hospital.registrar}
    return save_record(actor=actor, instance=role, changes=changes, now=NOW)


def rename_the_team(hospital: Hospital, actor: Person) -> object:
    return save_record(actor=actor, instance=hospital.medicine, changes={"name": "Med"}, now=NOW)


def create_a_location(hospital: Hospital, actor: Person) -> object:
    location = Location(site=hospital.site, name="Ward 9")
    return save_record(actor=actor, instance=location, changes={}, now=NOW)


def create_a_site(hospital: Hospital, actor: Person) -> object:
    changes = {"name": "Third General", "time_zone": "Europe/London"}
    return create_site(actor=actor, changes=changes, now=NOW)


def create_a_pattern(hospital: Hospital, actor: Person) -> object:
    changes = {
        "role": hospital.registrar,
        "name": "Days",
        "weekdays": [3],
        "start_time": time(8),
        "end_time": time(17),
        "rotation": Pattern.Rotation.EACH_WEEK,
        "anchor_date": MONDAY,
    }
    members = [hospital.people["colleague"]]
    return save_pattern(actor=actor, pattern=Pattern(), changes=changes, members=members, now=NOW)


def change_a_pattern(hospital: Hospital, actor: Person) -> object:
    members = [hospital.people["doctor"]]
    changes = {"name": "Mine now"}
    pattern = hospital.pattern
    return save_pattern(actor=actor, pattern=pattern, changes=changes, members=members, now=NOW)


def delete_a_pattern(hospital: Hospital, actor: Person) -> object:
    delete_pattern(actor=actor, pattern=hospital.pattern, now=NOW)
    return None


def expand_a_pattern(hospital: Hospital, actor: Person) -> object:
    return expand_pattern(
        actor=actor, pattern=hospital.pattern, first_day=MONDAY, last_day=MONDAY, now=NOW
    )


def cover_a_shift(hospital: Hospital, actor: Person) -> object:
    shift = hospital.shift
    return cover_shift(
        actor=actor,
        shift=shift,
        person=hospital.people["colleague"],
        start=shift.start,
        end=shift.start + timedelta(hours=4),
        now=NOW,
    )


WRITES: dict[str, Callable[[Hospital, Person], object]] = {
    "create a shift": create_a_shift,
    "change a shift": change_a_shift,
    "delete a shift": delete_a_shift,
    "create a role": create_a_role,
    "rename the team": rename_the_team,
    "create a location": create_a_location,
    "create a site": create_a_site,
    "create a pattern": create_a_pattern,
    "change a pattern": change_a_pattern,
    "delete a pattern": delete_a_pattern,
    "expand a pattern": expand_a_pattern,
    "cover a shift": cover_a_shift,
}
# Writes about the whole site, which a manager of one team may not make either.
SITE_WRITES = {"create a location", "create a site"}
# Adding a hospital is trusted to anyone who already runs a whole site, any site.
REFUSED = [
    (write, who)
    for write in WRITES
    for who in WRONG_ACTORS
    if (write, who) != ("create a site", "other_site_manager")
]


@pytest.mark.hazard("HZ-08")
@pytest.mark.parametrize(("write", "who"), REFUSED)
def test_a_rota_write_service_refuses_anyone_who_does_not_manage_the_record(
    hospital: Hospital, write: str, who: str
) -> None:
    before = stored_rota()

    with pytest.raises(ChangeNotAllowed):
        WRITES[write](hospital, hospital.people[who])

    assert stored_rota() == before


@pytest.mark.parametrize("write", sorted(set(WRITES) - SITE_WRITES))
def test_the_rota_manager_of_the_team_makes_each_of_those_writes(
    hospital: Hospital, write: str
) -> None:
    changes = RotaChange.objects.count()

    WRITES[write](hospital, hospital.people["medicine_manager"])

    assert RotaChange.objects.count() > changes


@pytest.mark.parametrize("write", sorted(SITE_WRITES))
def test_a_manager_of_one_team_may_not_make_a_write_about_the_whole_site(
    hospital: Hospital, write: str
) -> None:
    before = stored_rota()

    with pytest.raises(ChangeNotAllowed):
        WRITES[write](hospital, hospital.people["medicine_manager"])

    assert stored_rota() == before


@pytest.mark.hazard("HZ-08")
def test_moving_a_shift_to_another_teams_role_is_refused_by_the_service(
    hospital: Hospital,
) -> None:
    before = stored_rota()

    with pytest.raises(ChangeNotAllowed):
        save_record(
            actor=hospital.people["medicine_manager"],
            instance=hospital.shift,
            changes={"role": hospital.surgeon},
            now=NOW,
        )

    assert stored_rota() == before


@pytest.mark.hazard("HZ-08")
def test_moving_a_pattern_to_another_teams_role_is_refused_by_the_service(
    hospital: Hospital,
) -> None:
    before = stored_rota()

    with pytest.raises(ChangeNotAllowed):
        save_pattern(
            actor=hospital.people["medicine_manager"],
            pattern=hospital.pattern,
            changes={"role": hospital.surgeon},
            members=[hospital.people["colleague"]],
            now=NOW,
        )

    assert stored_rota() == before


def test_a_changed_copy_of_a_record_is_checked_where_the_record_is_stored(
    hospital: Hospital,
) -> None:
    # A caller's copy that already says Surgery does not make Medicine's shift Surgery's.
    hospital.shift.role = hospital.surgeon
    before = stored_rota()

    with pytest.raises(ChangeNotAllowed):
        save_record(
            actor=hospital.people["surgery_manager"],
            instance=hospital.shift,
            changes={"end": hospital.shift.end + timedelta(hours=1)},
            now=NOW,
        )

    assert stored_rota() == before


@pytest.mark.parametrize("who", ["nurse", "doctor", "auditor"])
def test_only_a_rota_manager_may_queue_an_import(hospital: Hospital, who: str) -> None:
    with pytest.raises(ImportNotAllowed):
        queue_import(
            actor=hospital.people[who],
            kind=ImportJob.Kind.CSV,
            data="role,person,start,end\n",
            options={"dry_run": True},
            now=NOW,
        )

    assert not ImportJob.objects.exists()


@pytest.mark.parametrize("record", ["shift", "pattern"])
def test_taking_a_record_away_from_a_team_one_does_not_manage_is_refused_by_the_service(
    hospital: Hospital, record: str
) -> None:
    surgery_manager = hospital.people["surgery_manager"]
    before = stored_rota()

    with pytest.raises(ChangeNotAllowed):
        if record == "shift":
            save_record(
                actor=surgery_manager,
                instance=hospital.shift,
                changes={"role": hospital.surgeon},
                now=NOW,
            )
        else:
            save_pattern(
                actor=surgery_manager,
                pattern=hospital.pattern,
                changes={"role": hospital.surgeon},
                members=[hospital.people["colleague"]],
                now=NOW,
            )

    assert stored_rota() == before
