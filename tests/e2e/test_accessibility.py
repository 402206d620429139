"""WCAG 2.2 AA on every screen of the phone app, in light and dark, at 200% zoom, at 320
CSS px and with the phone's text at double size: axe-core (from npm, injected into the
page) finds no violation, nothing scrolls sideways, every control is at least 44×44 CSS px,
text follows the phone's own text size, Tab shows where it is and is never hidden or let
out of the emergency screen, the states axe cannot judge (the offline banner, an error on
a page marked stale) keep 4.5:1 contrast, and a screen reader hears a new bleep.

One server, one browser and one sign-in per person walk every screen once (the tour);
each screen is checked there in every mode, by changing the page's width, colour scheme
and text size in place, and the tests below each report one screen in one mode.
"""

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.contrib.auth.hashers import PBKDF2PasswordHasher
from django.core.management import call_command
from django.db import connections
from playwright.sync_api import Browser, BrowserContext, Locator, Page, expect
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

from rota.models import Location, Person, Role, RotaManagerScope
from tests import factories
from tests.e2e.axe import run_axe
from tests.e2e.browser import PHONE, WAIT_MS, hospital, sign_in
from tests.e2e.conftest import SERVER_LOG, Server, running_server
from tests.e2e.test_phone_app import BOARD_REFRESH_WAIT_MS, rest_login, token_ends_in
from tests.e2e.test_phone_app_mfa import code_for

# The tour keeps its rows for the whole module and empties the tables after it; the mark
# only makes pytest-django create the test database for a run of this module alone.
pytestmark = [pytest.mark.e2e, pytest.mark.django_db]

# Where the issue asks more than WCAG 2.2's 24 px (2.5.8): a thumb at 3 a.m.
TOUCH_PX = 44
WCAG_AA_CONTRAST = 4.5


@dataclass(frozen=True)
class Mode:
    width: int
    height: int
    color_scheme: str
    # The browser's own text size (16 px unless the person set it larger).
    text_px: int = 16


MODES = {
    "light": Mode(390, 844, "light"),
    "dark": Mode(390, 844, "dark"),
    # 200% zoom of a 390 px phone is a 195 CSS px viewport: what layout, media queries and
    # axe see. The device scale factor only sharpens the pixels, so the page is resized in
    # place rather than reopened; CSS `zoom` on the page would leave innerWidth and the
    # media queries at 390 px and so test something no zoomed phone does.
    "200% zoom": Mode(195, 422, "light"),
    "200% zoom, dark": Mode(195, 422, "dark"),
    # WCAG 1.4.10's own width.
    "320 px": Mode(320, 640, "light"),
    # The phone's text size at double (WCAG 1.4.4): text sized in rem follows it.
    "text 200%": Mode(390, 844, "light", text_px=32),
}
AT_REST = MODES["light"]

# Every screen the tour shows, in its order; a test for a screen it did not reach fails.
SCREENS = [
    "sign-in",
    "sign-in, refused",
    "send",
    "send, search results",
    "send, errors shown",
    "inbox, empty",
    "inbox, a bleep waiting",
    "inbox, decline open",
    "bleep, open",
    "sent",
    "bleep, as its sender",
    "board",
    "account",
    "bleep, acknowledged",
    "bleep, acknowledged, as its sender",
    "offline banner",
    "offline, not sent",
    "two-step sign-in, set up",
    "two-step sign-in, recovery codes",
    "two-step sign-in, code asked",
    "two-step sign-in, recovery code",
    "sign-in ending",
    "sign-in ending, password asked",
    "emergency",
    "board, flood alert",
    "figures",
]
# Where Tab is walked: one screen of each kind, in light and at 200% zoom in dark.
FOCUS_SCREENS = [
    "sign-in",
    "send, errors shown",
    "inbox, a bleep waiting",
    "bleep, open",
    "board",
    "account",
    "offline banner",
    "sign-in ending, password asked",
    "emergency",
]
FOCUS_MODES = ["light", "200% zoom, dark"]
# The states whose colours axe does not judge: a banner that changes every second, and an
# error drawn on a page marked out of date (once faded, and 1.14:1 when it was).
CONTRAST_SCREENS = {
    "offline banner": "#banner p, #banner button",
    "offline, not sent": "#view .error",
}

CONTROLS = "button, a[href], input, select, textarea, summary"
MEASURE = """(selector) => {
  const small = [];
  for (const control of document.querySelectorAll(selector)) {
    const box = control.getBoundingClientRect();
    if (!box.width || !box.height || control.closest("[hidden], [inert]")) continue;
    if (getComputedStyle(control).visibility === "hidden") continue;
    if (control.type === "hidden") continue;
    // A radio or check box is reached through its label, which is the target.
    const target = control.matches("input[type=radio], input[type=checkbox]")
      ? control.closest("label").getBoundingClientRect() : box;
    if (target.width < TOUCH - 0.5 || target.height < TOUCH - 0.5) {
      const size = `${Math.round(target.width)}x${Math.round(target.height)}`;
      small.push(`${control.outerHTML.slice(0, 90)} is ${size} CSS px`);
    }
  }
  return small;
}""".replace("TOUCH", str(TOUCH_PX))
# Whether the page scrolls sideways, and if so the innermost elements that stick out.
OVERFLOW = """() => {
  const page = document.documentElement.scrollWidth, width = window.innerWidth;
  if (page <= width) return [];
  const out = [...document.body.querySelectorAll("*")].filter((element) => {
    const box = element.getBoundingClientRect();
    return box.width && box.right > width + 0.5 && !element.closest("[hidden]")
      && ![...element.children].some((child) => child.getBoundingClientRect().right > width + 0.5);
  });
  return [`${page} CSS px of page in ${width} CSS px`, ...out.slice(0, 3).map((element) => {
    const box = element.getBoundingClientRect();
    return `${element.outerHTML.slice(0, 90)} reaches ${Math.round(box.right)} CSS px`;
  })];
}"""
CONTRAST = """(element, pseudo) => {
  // The colour a text is drawn in over the colour behind it, with every opacity applied.
  const parse = (text) => text.match(/[\\d.]+/g).map(Number);
  const behind = (node) => {
    for (let at = node; at; at = at.parentElement) {
      const [r, g, b, a = 1] = parse(getComputedStyle(at).backgroundColor);
      if (a > 0) return [r, g, b];
    }
    return [255, 255, 255];
  };
  let opacity = 1;
  for (let at = element; at; at = at.parentElement) opacity *= Number(getComputedStyle(at).opacity);
  const style = getComputedStyle(element, pseudo);
  const [r, g, b, a = 1] = parse(style.color);
  const back = behind(element);
  const alpha = a * opacity * Number(style.opacity);
  const fore = [r, g, b].map((c, i) => c * alpha + back[i] * (1 - alpha));
  const luminance = (rgb) => {
    const [R, G, B] = rgb.map((c) => {
      const s = c / 255;
      return s <= 0.03928 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
    });
    return 0.2126 * R + 0.7152 * G + 0.0722 * B;
  };
  const [light, dark] = [luminance(fore), luminance(back)].sort((x, y) => y - x);
  const text = pseudo ? style.content : element.textContent;
  return [text, (light + 0.05) / (dark + 0.05)];
}"""
# Where Tab landed: whether it shows (WCAG 2.4.7) and whether anything fixed or sticky
# hides it entirely (2.4.11). A card's stretched link rings the whole card, and a priority
# toggle's hidden radio rings its label's face.
FOCUSED = """() => {
  const at = document.activeElement;
  if (!at || at === document.body || at === document.documentElement) return null;
  const ringed = at.matches(".card a.open") ? at.closest(".card")
    : at.matches(".priorities input") ? at.nextElementSibling : at;
  const style = getComputedStyle(ringed);
  const outlined = style.outlineStyle !== "none" && parseFloat(style.outlineWidth) >= 2
    && !/rgba\\(.*, 0\\)$/.test(style.outlineColor);
  const box = ringed.getBoundingClientRect();
  const points = [[0.5, 0.5], [0.1, 0.1], [0.9, 0.1], [0.1, 0.9], [0.9, 0.9]];
  const seen = points.some(([fx, fy]) => {
    const hit = document.elementFromPoint(box.left + box.width * fx, box.top + box.height * fy);
    return hit !== null && (ringed.contains(hit) || hit.contains(ringed) || at.contains(hit));
  });
  const name = (at.getAttribute("aria-label") || at.textContent || at.id || at.name || "").trim();
  return {
    what: `${at.tagName.toLowerCase()} "${name.slice(0, 40)}"`,
    key: Array.prototype.indexOf.call(document.querySelectorAll("*"), at),
    shows: outlined || style.boxShadow !== "none",
    seen,
    inDialog: Boolean(at.closest("#emergency")),
  };
}"""
TAB_STOPS_AT_MOST = 60
# Each element that draws text of its own, by its place in the page, and its text's size.
TEXT_SIZES = """() => [...document.querySelectorAll("body *")].flatMap((element, place) =>
  [...element.childNodes].some((node) => node.nodeType === 3 && node.textContent.trim())
    ? [[place, element.outerHTML.slice(0, 60), parseFloat(getComputedStyle(element).fontSize)]]
    : [])"""
LARGE_TEXT = "text 200%"
# A text at least this much larger when the phone's text is doubled has followed it.
FOLLOWS = 1.9


@dataclass
class Tour:
    """What each screen broke in each mode, by kind of check, as the tour found it."""

    problems: dict[tuple[str, str, str], list[str]] = field(default_factory=dict)
    # What each live region said when a bleep came and when it was answered.
    heard: dict[str, str] = field(default_factory=dict)

    def listen(self, page: Page, region: str, expected: str) -> None:
        """Keep what `region` says once it says `expected`, or at the wait's end."""
        try:
            page.wait_for_function(
                "([at, text]) => document.querySelector(at)?.textContent.includes(text)",
                arg=[region, expected],
            )
        except PlaywrightTimeoutError:
            pass
        self.heard[region] = str(page.locator(region).text_content()).strip()

    def found(self, screen: str, mode: str, kind: str) -> list[str]:
        """Return the problems of one kind on one screen in one mode; fail if never looked."""
        assert (screen, mode, kind) in self.problems, f"the tour never checked {screen} ({mode})"
        return self.problems[(screen, mode, kind)]

    def look(self, page: Page, screen: str) -> None:
        """Check `screen` as `page` shows it now, in every mode, then put the page back."""
        assert screen in SCREENS, screen
        at_rest: list[list[Any]] = []
        for name, mode in MODES.items():
            show_in(page, mode)
            if mode == AT_REST:
                at_rest = page.evaluate(TEXT_SIZES)
            if name == LARGE_TEXT:
                self.problems[(screen, name, "text")] = fixed_text(at_rest, page)
            self.problems[(screen, name, "axe")] = [str(v) for v in run_axe(page)]
            self.problems[(screen, name, "reflow")] = page.evaluate(OVERFLOW)
            self.problems[(screen, name, "touch")] = page.evaluate(MEASURE, CONTROLS)
            if screen in CONTRAST_SCREENS:
                self.problems[(screen, name, "contrast")] = low_contrast(
                    page, CONTRAST_SCREENS[screen]
                )
            if screen in FOCUS_SCREENS and name in FOCUS_MODES:
                self.problems[(screen, name, "focus")] = walk_focus(
                    page, trapped=screen == "emergency"
                )
        show_in(page, AT_REST)


def show_in(page: Page, mode: Mode) -> None:
    page.set_viewport_size({"width": mode.width, "height": mode.height})
    page.emulate_media(color_scheme=mode.color_scheme)  # type: ignore[arg-type]
    cdp = page.context.new_cdp_session(page)
    cdp.send("Page.setFontSizes", {"fontSizes": {"standard": mode.text_px}})
    cdp.detach()
    # Two frames: the resize's layout, then anything a resize or a redraw started.
    page.evaluate("new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done)))")


def fixed_text(at_rest: list[list[Any]], page: Page) -> list[str]:
    """Return each text that kept its size when the phone's text size doubled."""
    now = {place: (what, px) for place, what, px in page.evaluate(TEXT_SIZES)}
    return [
        f"{what} stays at {px:g} px"
        for place, what, px in at_rest
        if now.get(place, (None, 0))[0] == what and now[place][1] < px * FOLLOWS
    ]


def low_contrast(page: Page, selector: str) -> list[str]:
    """Return each text under `selector` (and the stale page's own notice) below 4.5:1."""
    low = []
    measured: list[tuple[Locator, str | None]] = [(at, None) for at in page.locator(selector).all()]
    if page.evaluate("document.body.classList.contains('stale')"):
        measured.append((page.locator("#view"), "::before"))
    for element, pseudo in measured:
        text, ratio = element.evaluate(CONTRAST, pseudo)
        if ratio < WCAG_AA_CONTRAST:
            low.append(f"{text!r} has contrast {ratio:.2f}:1")
    return low


def walk_focus(page: Page, *, trapped: bool) -> list[str]:
    """Tab round the screen once and return each stop that hides, is hidden or escapes."""
    problems: list[str] = []
    first_key = None
    outside = 0
    for _ in range(TAB_STOPS_AT_MOST):
        page.keyboard.press("Tab")
        stop: dict[str, Any] | None = page.evaluate(FOCUSED)
        if stop is None:
            outside += 1
            if trapped:
                problems.append("Tab left the emergency screen for the browser")
            if outside > 1 or trapped:
                break
            continue
        if stop["key"] == first_key:
            break
        first_key = first_key if first_key is not None else stop["key"]
        if not stop["shows"]:
            problems.append(f"{stop['what']} shows no focus ring")
        if not stop["seen"]:
            problems.append(f"{stop['what']} is hidden behind something when focused")
        if trapped and not stop["inDialog"]:
            problems.append(f"Tab left the emergency screen for {stop['what']}")
    else:
        problems.append(f"Tab never came round in {TAB_STOPS_AT_MOST} stops")
    return problems


def device(browser: Browser) -> BrowserContext:
    """A phone whose content security policy lets the test inject axe, motion reduced."""
    # The app's CSP allows no inline script; axe is injected as one, by the test alone.
    context = browser.new_context(**PHONE, reduced_motion="reduce", bypass_csp=True)  # type: ignore[arg-type]
    context.set_default_timeout(WAIT_MS)
    return context


@pytest.fixture(scope="module")
def server_output(tmp_path_factory: pytest.TempPathFactory) -> Path:
    log = tmp_path_factory.mktemp("accessibility") / "server.log"
    log.touch()
    return log


@pytest.fixture(autouse=True)
def show_server_output(request: pytest.FixtureRequest, server_output: Path) -> None:
    """Attach the module's server output to any failing test's report."""
    request.node.stash[SERVER_LOG] = server_output


@pytest.fixture(scope="module")
def module_db(django_db_setup: None, django_db_blocker: Any) -> Iterator[Any]:
    """The test database for the whole module, emptied after it as a transactional test's is."""
    with django_db_blocker.unblock():
        hospital()
        manager = factories.make_person("fiona.hale", job=Person.Job.ROTA_MANAGER)
        # Her figures then hold the tour's bleeps to the registrar.
        RotaManagerScope.objects.create(
            person=manager, team=Role.objects.get(bleep_number="2345").team
        )
        # The server runs with the production hasher, not the tests' fast one.
        hasher = PBKDF2PasswordHasher()
        manager.password = hasher.encode(factories.PASSWORD, hasher.salt())
        manager.save(update_fields=["password"])
    yield django_db_blocker
    with django_db_blocker.unblock():
        call_command("flush", interactive=False, verbosity=0)


@pytest.fixture(scope="module")
def server(module_db: Any, server_output: Path) -> Iterator[Server]:
    with running_server(log=server_output) as running:
        yield running


@pytest.fixture(scope="module")
def tour(server: Server, chromium: Browser, module_db: Any) -> Iterator[Tour]:
    """Walk every screen once, as a nurse, a doctor, switchboard and a rota manager."""
    tour = Tour()
    nurse = signed_out_screens(tour, chromium, server)
    doctor = sign_in(device(chromium), server, "omar.haddad")
    tour.look(doctor, "inbox, empty")
    bleep_id = bleep_screens(tour, nurse, doctor, chromium, server, module_db)
    answered_screens(tour, nurse, doctor, server, bleep_id)
    offline_screens(tour, nurse, server)
    two_step_screens(tour, chromium, server)
    ending_and_emergency_screens(tour, doctor, server, module_db)
    flood_screen(tour, chromium, server)
    yield tour
    # While Playwright's loop runs, Django keeps the tests' connection apart from the one
    # the session ends with; left open, it stops PostgreSQL dropping the test database.
    connections.close_all()


def signed_out_screens(tour: Tour, chromium: Browser, server: Server) -> Page:
    """Sign-in, refused and accepted, and the send screen's states; return the nurse."""
    context = device(chromium)
    first = context.new_page()
    first.goto(server.url)
    expect(first.get_by_role("button", name="Sign in")).to_be_visible()
    tour.look(first, "sign-in")
    first.get_by_label("Username").fill("amina.okafor")
    first.get_by_label("Password").fill("not the password")
    first.get_by_role("button", name="Sign in").click()
    expect(first.locator("#signin-problem")).not_to_be_empty()
    tour.look(first, "sign-in, refused")
    first.close()

    nurse = sign_in(context, server, "amina.okafor")
    tour.look(nurse, "send")
    nurse.get_by_label("Search who is on call").fill("2345")
    expect(nurse.locator("#directory-results button")).to_have_count(1)
    tour.look(nurse, "send, search results")
    nurse.get_by_role("button", name="Send bleep").click()
    expect(nurse.locator("#message-error")).to_be_visible()
    tour.look(nurse, "send, errors shown")
    return nurse


def bleep_screens(
    tour: Tour, nurse: Page, doctor: Page, chromium: Browser, server: Server, db: Any
) -> int:
    """An urgent bleep as its recipient, its sender and switchboard see it; return its id."""
    with db.unblock():
        ward = Location.objects.get(name="Ward 7").pk
    with rest_login(server, "amina.okafor") as rest:
        sent = rest.post(
            "/api/bleeps",
            json={
                "bleep_number": "2345",
                "priority": "urgent",
                "message": "Bed 4 NEWS 7, please review",
                "location": ward,
                "bed": "4",
                "callback_extension": "4417",
            },
        )
        assert sent.status_code == 201, sent.text
    bleep_id = int(sent.json()["id"])
    tour.listen(doctor, "#announce-urgent[aria-live=assertive]", "New urgent bleep")
    card = doctor.locator(f"#inbox [data-bleep='{bleep_id}']")
    expect(card).to_be_visible()
    tour.look(doctor, "inbox, a bleep waiting")
    card.get_by_text("Can't come…").click()
    tour.look(doctor, "inbox, decline open")
    card.get_by_text("Can't come…").click()
    doctor.goto(f"{server.url}/#/bleeps/{bleep_id}")
    expect(doctor.locator("#status-line")).to_be_visible()
    tour.look(doctor, "bleep, open")

    nurse.goto(f"{server.url}/#/sent")
    expect(nurse.locator(f"#sent [data-bleep='{bleep_id}']")).to_be_visible()
    tour.look(nurse, "sent")
    nurse.goto(f"{server.url}/#/bleeps/{bleep_id}")
    expect(nurse.locator("#status-line")).to_be_visible()
    tour.look(nurse, "bleep, as its sender")

    switchboard = sign_in(device(chromium), server, "pat.ellis")
    expect(switchboard.locator(f"#board [data-bleep='{bleep_id}']")).to_be_visible()
    tour.look(switchboard, "board")
    switchboard.context.close()
    return bleep_id


def answered_screens(tour: Tour, nurse: Page, doctor: Page, server: Server, bleep_id: int) -> None:
    """The account screen, then the bleep acknowledged, on both phones."""
    doctor.goto(f"{server.url}/#/account")
    expect(doctor.get_by_role("heading", level=1)).to_be_visible()
    tour.look(doctor, "account")
    doctor.goto(f"{server.url}/#/inbox")
    doctor.locator(f"#inbox [data-bleep='{bleep_id}']").get_by_role(
        "button", name="Acknowledge: coming now"
    ).click()
    tour.listen(nurse, "#announce-polite[aria-live=polite]", "Acknowledged by")
    doctor.goto(f"{server.url}/#/bleeps/{bleep_id}")
    expect(doctor.locator("#status-line")).to_contain_text("Acknowledged")
    tour.look(doctor, "bleep, acknowledged")
    expect(nurse.locator("#status-line")).to_contain_text("Acknowledged")
    tour.look(nurse, "bleep, acknowledged, as its sender")


def offline_screens(tour: Tour, nurse: Page, server: Server) -> None:
    """The offline banner, and a send refused meanwhile on a page marked out of date."""
    nurse.goto(f"{server.url}/#/send")
    nurse.context.set_offline(True)
    nurse.evaluate("window.dispatchEvent(new Event('offline'))")
    expect(nurse.locator("#banner")).to_contain_text("Trying again")
    tour.look(nurse, "offline banner")
    nurse.get_by_label("Or type a bleep number").fill("2345")
    nurse.get_by_label("Message").fill("While offline")
    nurse.get_by_role("button", name="Send bleep").click()
    expect(nurse.locator("#view .error").first).to_be_visible()
    tour.look(nurse, "offline, not sent")
    nurse.context.set_offline(False)
    nurse.context.close()


def two_step_screens(tour: Tour, chromium: Browser, server: Server) -> None:
    """A rota manager sets up two-step sign-in, then is asked for a code on another phone."""
    first = device(chromium).new_page()
    start_sign_in(first, server, "fiona.hale")
    expect(first.get_by_role("heading", name="Set up two-step sign-in")).to_be_visible()
    tour.look(first, "two-step sign-in, set up")
    secret = first.locator("#mfa-secret").inner_text()
    first.get_by_label("2. The 6-digit code the app shows").fill(code_for(secret))
    first.get_by_role("button", name="Confirm").click()
    expect(first.get_by_role("heading", name="Your recovery codes")).to_be_visible()
    tour.look(first, "two-step sign-in, recovery codes")
    first.locator("#codes-kept").check()
    first.get_by_role("button", name="Continue").click()
    first.get_by_role("link", name="Figures").click()
    expect(first.locator("#figures-status")).to_have_text(re.compile(r"^\d+ bleeps\.$"))
    expect(first.locator("#figure-roles svg rect")).not_to_have_count(0)
    tour.look(first, "figures")
    first.context.close()

    second = device(chromium).new_page()
    start_sign_in(second, server, "fiona.hale")
    expect(second.get_by_label("Code from your authenticator app")).to_be_focused()
    tour.look(second, "two-step sign-in, code asked")
    second.get_by_role("button", name="Use a recovery code instead").click()
    expect(second.get_by_label("Recovery code")).to_be_focused()
    tour.look(second, "two-step sign-in, recovery code")
    second.context.close()


def start_sign_in(page: Page, server: Server, username: str) -> None:
    page.goto(server.url)
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(factories.PASSWORD)
    page.get_by_role("button", name="Sign in").click()


def ending_and_emergency_screens(tour: Tour, doctor: Page, server: Server, db: Any) -> None:
    """The doctor's sign-in about to end, then an emergency over it."""
    with db.unblock():
        token_ends_in(Person.objects.get(username="omar.haddad"), timedelta(hours=2))
    doctor.reload()
    doctor.locator("#connection[data-state=live]").wait_for()
    doctor.get_by_role("link", name="Inbox").click()
    notice = doctor.get_by_role("region", name="Sign-in ending")
    expect(notice).to_be_visible()
    tour.look(doctor, "sign-in ending")
    notice.get_by_role("button", name="Sign in again").click()
    expect(notice.get_by_label("Password")).to_be_focused()
    tour.look(doctor, "sign-in ending, password asked")

    with rest_login(server, "amina.okafor") as rest:
        arrest = rest.post(
            "/api/bleeps",
            json={"bleep_number": "2345", "priority": "emergency", "message": "Arrest, bay 2"},
        )
        assert arrest.status_code == 201, arrest.text
    expect(doctor.get_by_role("alertdialog")).to_be_visible()
    tour.look(doctor, "emergency")
    doctor.context.close()


def flood_screen(tour: Tour, chromium: Browser, server: Server) -> None:
    """Switchboard's board with a flood alert above the bleeps."""
    with rest_login(server, "amina.okafor") as rest:
        for n in range(settings.SEND_LIMIT_BURST + 1):
            rest.post("/api/bleeps", json={"bleep_number": "2345", "message": f"job {n}"})
    switchboard = sign_in(device(chromium), server, "pat.ellis")
    expect(switchboard.locator("#board-floods")).to_contain_text(
        "Flood of bleeps", timeout=BOARD_REFRESH_WAIT_MS
    )
    tour.look(switchboard, "board, flood alert")
    switchboard.context.close()


def slug(words: str) -> str:
    return re.sub(r"\W+", "-", words).strip("-")


def cases(screens: list[str], modes: list[str]) -> list[Any]:
    """Return each screen in each mode as a test case named for both, such as send-dark."""
    return [pytest.param(s, m, id=f"{slug(s)}-{slug(m)}") for s in screens for m in modes]


EVERY_SCREEN = cases(SCREENS, list(MODES))


@pytest.mark.parametrize(("screen", "mode"), EVERY_SCREEN)
def test_axe_finds_no_wcag_2_2_aa_violation_on(tour: Tour, screen: str, mode: str) -> None:
    problems = tour.found(screen, mode, "axe")
    if problems:
        pytest.fail("\n".join(problems), pytrace=False)


@pytest.mark.parametrize(("screen", "mode"), EVERY_SCREEN)
def test_nothing_scrolls_sideways_on(tour: Tour, screen: str, mode: str) -> None:
    problems = tour.found(screen, mode, "reflow")
    if problems:
        pytest.fail("\n".join(problems), pytrace=False)


@pytest.mark.parametrize(("screen", "mode"), EVERY_SCREEN)
def test_every_control_is_at_least_44_px_square_on(tour: Tour, screen: str, mode: str) -> None:
    problems = tour.found(screen, mode, "touch")
    if problems:
        pytest.fail("\n".join(problems), pytrace=False)


@pytest.mark.parametrize(("screen", "mode"), cases(SCREENS, [LARGE_TEXT]))
def test_text_follows_the_phones_own_text_size_on(tour: Tour, screen: str, mode: str) -> None:
    problems = tour.found(screen, mode, "text")
    if problems:
        pytest.fail("\n".join(problems), pytrace=False)


@pytest.mark.parametrize(("screen", "mode"), cases(FOCUS_SCREENS, FOCUS_MODES))
def test_tab_shows_where_it_is_never_hidden_nor_let_out_of_an_emergency_on(
    tour: Tour, screen: str, mode: str
) -> None:
    problems = tour.found(screen, mode, "focus")
    if problems:
        pytest.fail("\n".join(problems), pytrace=False)


@pytest.mark.parametrize(("screen", "mode"), cases(list(CONTRAST_SCREENS), list(MODES)))
def test_text_axe_cannot_judge_keeps_4_5_to_1_contrast_on(
    tour: Tour, screen: str, mode: str
) -> None:
    problems = tour.found(screen, mode, "contrast")
    if problems:
        pytest.fail("\n".join(problems), pytrace=False)


def test_a_screen_reader_hears_a_new_bleep_at_once_and_its_answer_in_turn(tour: Tour) -> None:
    # A new bleep interrupts (assertive); how others answer waits its turn (polite).
    assert tour.heard["#announce-urgent[aria-live=assertive]"] == (
        "New urgent bleep from Amina Okafor"
    )
    assert "Acknowledged by Dr Omar Haddad" in tour.heard["#announce-polite[aria-live=polite]"]
