"""The demo hospital that `manage.py seed_demo` builds: data only, no logic beyond the rota."""

from dataclasses import dataclass

DEMO_PASSWORD = "bleep-demo"
SITE = "St Elsewhere General Hospital"
WARDS = ["Ward 7", "Ward 8", "Ward 12", "Rainbow Ward", "Emergency Department"]
# Every ward has its F1 cover role below; the Emergency Department has its own doctors.
TEAMS = ["Medicine", "Surgery", "Paediatrics", "Resus / crash team", "Switchboard"]
DAYS_BEFORE = 7
DAYS_AFTER = 7


@dataclass(frozen=True)
class DemoRole:
    name: str
    team: str
    bleep_number: str
    fallback: str | None
    job: str  # Person.Job of its holders
    grade: str  # Person.Grade of its holders ("" for non-doctors)
    holders: tuple[str, str, str, str]  # day A, day B, night A, night B (alternate days)


ROLES = [
    DemoRole(
        "Switchboard",
        "Switchboard",
        "1000",
        None,
        "switchboard",
        "",
        ("Pat Ellis", "Sam Reid", "Jo Marsh", "Chris Dunn"),
    ),
    DemoRole(
        "Consultant physician on call",
        "Medicine",
        "2350",
        "Switchboard",
        "doctor",
        "consultant",
        ("Dr Helen Carter", "Dr Rajesh Iyer", "Dr Helen Carter", "Dr Rajesh Iyer"),
    ),
    DemoRole(
        "Medical Registrar on call",
        "Medicine",
        "2345",
        "Consultant physician on call",
        "doctor",
        "st",
        ("Dr Kemi Adeyemi", "Dr Tom Fletcher", "Dr Sara Lind", "Dr Omar Haddad"),
    ),
    DemoRole(
        "Medical SHO",
        "Medicine",
        "2340",
        "Medical Registrar on call",
        "doctor",
        "f2",
        ("Dr Lucy Grant", "Dr Ben Osei", "Dr Nia Evans", "Dr Ravi Shah"),
    ),
    DemoRole(
        "F1 Ward 7 cover",
        "Medicine",
        "2001",
        "Medical SHO",
        "doctor",
        "f1",
        ("Dr Amy Brooks", "Dr Josh Kerr", "Dr Mei Chen", "Dr Luke Ward"),
    ),
    DemoRole(
        "F1 Ward 8 cover",
        "Medicine",
        "2002",
        "Medical SHO",
        "doctor",
        "f1",
        ("Dr Zara Ali", "Dr Finn Doyle", "Dr Ellie Hart", "Dr Sean Burke"),
    ),
    DemoRole(
        "Surgical Registrar",
        "Surgery",
        "2400",
        "Switchboard",
        "doctor",
        "st",
        ("Dr Grace Moyo", "Dr Ian Blake", "Dr Priya Nair", "Dr Dan Cole"),
    ),
    DemoRole(
        "F1 Ward 12 cover",
        "Surgery",
        "2003",
        "Surgical SHO",
        "doctor",
        "f1",
        ("Dr Holly Price", "Dr Kofi Mensah", "Dr Anna Novak", "Dr Jack Lowe"),
    ),
    DemoRole(
        "Surgical SHO",
        "Surgery",
        "2410",
        "Surgical Registrar",
        "doctor",
        "ct",
        ("Dr Rosa Lima", "Dr Will Grey", "Dr Jin Park", "Dr Cara Boyd"),
    ),
    DemoRole(
        "Paediatric Registrar",
        "Paediatrics",
        "2500",
        "Switchboard",
        "doctor",
        "st",
        ("Dr Ruth Kaye", "Dr Alex Young", "Dr Maya Singh", "Dr Leo Park"),
    ),
    DemoRole(
        "F1 Rainbow Ward cover",
        "Paediatrics",
        "2004",
        "Paediatric Registrar",
        "doctor",
        "f1",
        ("Dr Iris Webb", "Dr Noah Quinn", "Dr Elsa Berg", "Dr Theo Hunt"),
    ),
    DemoRole(
        "Hospital at Night practitioner",
        "Resus / crash team",
        "2600",
        "Switchboard",
        "practitioner",
        "",
        ("Kate Summers", "Mark Ellison", "Tess Okafor", "Adam Fry"),
    ),
]

NURSES = [
    ("Amina Okafor", "Ward 7"),
    ("Beth Turner", "Ward 8"),
    ("Carlos Ruiz", "Ward 12"),
    ("Dina Patel", "Rainbow Ward"),
    ("Ewan Scott", "Emergency Department"),
]
ROTA_MANAGERS = ["Fiona Hale"]

# Day shifts 08:00–20:00 and nights 20:00–08:00, in the site's wall-clock time.
DAY_START_HOUR = 8
NIGHT_START_HOUR = 20
