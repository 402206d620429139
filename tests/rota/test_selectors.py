"""Who holds a role at an instant, finding a role, and where a bleep to a role goes."""

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

import pytest

from rota.exceptions import NoHolderInChain, RoleNotFound
from rota.models import Person, Role
from rota.selectors import MAX_FALLBACK_DEPTH, get_role, holders_at, resolve_role
from tests.factories import make_person, make_role, make_shift, make_site, make_team

NOON = datetime(2026, 1, 15, 12, 0, tzinfo=UTC)


def usernames(people: Iterable[Person]) -> list[str]:
    return [person.username for person in people]


@pytest.mark.django_db
@pytest.mark.hazard("HZ-01")
def test_a_shift_holds_its_role_from_its_first_instant() -> None:
    role = make_role()
    make_shift(role, make_person("omar.haddad"), start=NOON, hours=8)

    assert usernames(holders_at(role=role, at=NOON)) == ["omar.haddad"]


@pytest.mark.django_db
@pytest.mark.hazard("HZ-01")
def test_a_shift_no_longer_holds_its_role_at_its_end() -> None:
    role = make_role()
    make_shift(role, make_person("omar.haddad"), start=NOON, hours=8)

    assert usernames(holders_at(role=role, at=NOON + timedelta(hours=8))) == []
    assert usernames(holders_at(role=role, at=NOON + timedelta(hours=8, microseconds=-1))) == [
        "omar.haddad"
    ]


@pytest.mark.django_db
def test_nobody_holds_a_role_before_the_shift_starts() -> None:
    role = make_role()
    make_shift(role, make_person("omar.haddad"), start=NOON, hours=8)

    assert usernames(holders_at(role=role, at=NOON - timedelta(microseconds=1))) == []


@pytest.mark.django_db
def test_a_handover_overlap_gives_both_holders() -> None:
    role = make_role()
    make_shift(role, make_person("day.doctor"), start=NOON - timedelta(hours=8), hours=8.5)
    make_shift(role, make_person("night.doctor"), start=NOON, hours=12)

    assert usernames(holders_at(role=role, at=NOON + timedelta(minutes=15))) == [
        "day.doctor",
        "night.doctor",
    ]
    assert usernames(holders_at(role=role, at=NOON + timedelta(minutes=30))) == ["night.doctor"]


@pytest.mark.django_db
def test_a_person_with_two_overlapping_shifts_on_one_role_is_listed_once() -> None:
    role = make_role()
    doctor = make_person("omar.haddad")
    make_shift(role, doctor, start=NOON - timedelta(hours=1), hours=4)
    make_shift(role, doctor, start=NOON, hours=4)

    assert usernames(holders_at(role=role, at=NOON + timedelta(hours=1))) == ["omar.haddad"]


@pytest.mark.django_db
@pytest.mark.hazard("HZ-01")
def test_an_inactive_person_does_not_hold_their_role() -> None:
    role = make_role()
    make_shift(role, make_person("left.trust", is_active=False), start=NOON, hours=8)
    make_shift(role, make_person("still.here"), start=NOON, hours=8)

    assert usernames(holders_at(role=role, at=NOON + timedelta(hours=1))) == ["still.here"]


@pytest.mark.django_db
def test_a_shift_on_another_role_does_not_hold_this_one() -> None:
    role = make_role()
    make_shift(make_role("Surgical Registrar"), make_person("omar.haddad"), start=NOON)

    assert usernames(holders_at(role=role, at=NOON)) == []


@pytest.mark.django_db
def test_a_role_is_found_by_its_id() -> None:
    role = make_role(bleep_number="2345")

    assert get_role(role_id=role.pk) == role


@pytest.mark.django_db
def test_a_role_is_found_by_its_bleep_number() -> None:
    make_role("Switchboard", bleep_number="1000")
    role = make_role(bleep_number="2345")

    assert get_role(bleep_number="2345") == role


@pytest.mark.django_db
def test_an_unknown_role_id_raises_role_not_found() -> None:
    role = make_role()

    with pytest.raises(RoleNotFound):
        get_role(role_id=role.pk + 1000)


@pytest.mark.django_db
def test_an_unknown_bleep_number_raises_role_not_found() -> None:
    make_role(bleep_number="2345")

    with pytest.raises(RoleNotFound):
        get_role(bleep_number="9999")


@pytest.mark.django_db
@pytest.mark.hazard("HZ-01")
def test_a_bleep_number_used_on_two_sites_is_refused_rather_than_guessed() -> None:
    make_role(bleep_number="2345", team=make_team(site=make_site("North Site")))
    make_role(bleep_number="2345", team=make_team(site=make_site("South Site")))

    with pytest.raises(RoleNotFound):
        get_role(bleep_number="2345")


@pytest.mark.django_db
def test_a_role_with_a_holder_answers_its_own_bleeps() -> None:
    switchboard = make_role("Switchboard", bleep_number="1000")
    role = make_role(fallback=switchboard)
    make_shift(role, make_person("omar.haddad"), start=NOON - timedelta(hours=1))
    make_shift(switchboard, make_person("pat.ellis", job=Person.Job.SWITCHBOARD), start=NOON)

    resolution = resolve_role(role=role, at=NOON)

    assert resolution.addressed == role
    assert resolution.answering == role
    assert usernames(resolution.holders) == ["omar.haddad"]
    assert resolution.via_fallback is False


@pytest.mark.django_db
@pytest.mark.hazard("HZ-02")
def test_a_gap_follows_the_fallback_chain_to_the_first_role_with_a_holder() -> None:
    switchboard = make_role("Switchboard", bleep_number="1000")
    consultant = make_role("Consultant physician on call", fallback=switchboard)
    registrar = make_role("Medical Registrar on call", fallback=consultant)
    f1 = make_role("F1 Ward 7 cover", fallback=registrar)
    make_shift(consultant, make_person("helen.carter"), start=NOON - timedelta(hours=1))
    make_shift(switchboard, make_person("pat.ellis", job=Person.Job.SWITCHBOARD), start=NOON)
    # The registrar's shift ended before the bleep: a gap, not a holder.
    make_shift(registrar, make_person("kemi.adeyemi"), start=NOON - timedelta(hours=9), hours=8)

    resolution = resolve_role(role=f1, at=NOON)

    assert resolution.addressed == f1
    assert resolution.answering == consultant
    assert usernames(resolution.holders) == ["helen.carter"]
    assert resolution.via_fallback is True


@pytest.mark.django_db
def test_a_chain_with_nobody_on_it_raises_no_holder_in_chain() -> None:
    switchboard = make_role("Switchboard", bleep_number="1000")
    role = make_role(fallback=switchboard)
    make_shift(switchboard, make_person("pat.ellis"), start=NOON + timedelta(hours=1))

    with pytest.raises(NoHolderInChain):
        resolve_role(role=role, at=NOON)


@pytest.mark.django_db
def test_a_fallback_loop_ends_with_no_holder_in_chain_instead_of_hanging() -> None:
    first = make_role("First")
    second = make_role("Second", fallback=first)
    first.fallback = second
    first.save(update_fields=["fallback"])

    with pytest.raises(NoHolderInChain):
        resolve_role(role=first, at=NOON)


@pytest.mark.django_db
def test_a_role_that_falls_back_to_itself_ends_with_no_holder_in_chain() -> None:
    role = make_role()
    role.fallback = role
    role.save(update_fields=["fallback"])

    with pytest.raises(NoHolderInChain):
        resolve_role(role=role, at=NOON)


@pytest.mark.django_db
def test_a_chain_longer_than_the_maximum_depth_is_treated_as_a_loop() -> None:
    last = make_role("Last resort")
    make_shift(last, make_person("pat.ellis"), start=NOON - timedelta(hours=1))
    role = last
    for step in range(MAX_FALLBACK_DEPTH):
        role = make_role(f"Step {step}", fallback=role)

    with pytest.raises(NoHolderInChain):
        resolve_role(role=role, at=NOON)
    assert resolve_role(role=role.fallback, at=NOON).answering == last  # type: ignore[arg-type]


@pytest.mark.django_db
@pytest.mark.hazard("HZ-02")
def test_a_hole_in_the_switchboard_rota_reaches_every_switchboard_operator() -> None:
    switchboard = make_role("Switchboard", bleep_number="1000", kind=Role.Kind.SWITCHBOARD)
    role = make_role(fallback=switchboard)
    operators = [make_person(f"operator.{n}", job=Person.Job.SWITCHBOARD) for n in range(2)]
    make_person("left.trust", job=Person.Job.SWITCHBOARD, is_active=False)

    resolution = resolve_role(role=role, at=NOON)

    assert resolution.answering == switchboard
    assert resolution.holders == operators
