"""The `listen` probe describes every event a phone may get, whatever the bleep's target."""

from messaging.management.commands.listen import Command

PERSON_BLEEP = {
    "id": 7,
    "priority": "urgent",
    "role": None,
    "person": {"id": 3, "name": "Dr Omar Haddad"},
    "sender": {"id": 1, "name": "Amina Okafor"},
    "message": "Call me",
    "location": None,
    "bed": "",
    "callback_extension": "4321",
}


def test_a_bleep_to_a_person_by_name_is_described_with_their_name() -> None:
    line = Command()._describe({"type": "bleep.created", "seq": 4, "bleep": PERSON_BLEEP})
    assert line.startswith("#4 BLEEP 7 [urgent] to Dr Omar Haddad from Amina Okafor: Call me")


def test_an_escalation_names_who_was_brought_in() -> None:
    event = {
        "type": "bleep.escalated",
        "seq": 9,
        "bleep_id": 7,
        "action": "notify_switchboard",
        "added": [{"id": 5, "name": "Sam Reid"}],
        "bleep": PERSON_BLEEP,
    }
    assert Command()._describe(event) == "#9 bleep 7 NOTIFY_SWITCHBOARD: Sam Reid"
