"""WCAG 2.2 AA on every screen of the phone app, light and dark and at 200% zoom: axe-core
(from npm, injected into the page) finds no violation, nothing scrolls sideways, every
control is at least 44×44 CSS px, and the states axe cannot judge (the offline banner, an
error on a page marked stale) keep 4.5:1 contrast."""

import json
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from rota.models import Location, Person
from tests.e2e.browser import PHONE, WAIT_MS, sign_in
from tests.e2e.conftest import Server
from tests.e2e.test_phone_app import rest_login

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
# Every WCAG 2.0, 2.1 and 2.2 rule at levels A and AA that axe checks.
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"]
# Where the issue asks more than WCAG 2.2's 24 px (2.5.8): a thumb at 3 a.m.
TOUCH_PX = 44
MODES = {
    "light": {**PHONE, "color_scheme": "light"},
    "dark": {**PHONE, "color_scheme": "dark"},
    # 200% zoom of a 390 px phone: the same screen, half as many CSS pixels across.
    "200% zoom": {
        **PHONE,
        "viewport": {"width": 195, "height": 422},
        "device_scale_factor": 4,
        "color_scheme": "light",
    },
    # WCAG 1.4.10's own width.
    "320 px": {**PHONE, "viewport": {"width": 320, "height": 640}, "color_scheme": "dark"},
}

CONTROLS = "button, a[href], input, select, textarea, summary"
MEASURE = """(selector) => {
  const small = [];
  for (const control of document.querySelectorAll(selector)) {
    const box = control.getBoundingClientRect();
    if (!box.width || !box.height || control.closest("[hidden], [inert]")) continue;
    if (box.bottom < 0 || getComputedStyle(control).visibility === "hidden") continue;
    // A radio or check box is reached through its label, which is the target.
    const target = control.matches("input[type=radio], input[type=checkbox]")
      ? control.closest("label").getBoundingClientRect() : box;
    if (target.width < TOUCH - 0.5 || target.height < TOUCH - 0.5) {
      const size = `${Math.round(target.width)}x${Math.round(target.height)}`;
      small.push(`${control.outerHTML.slice(0, 90)} is ${size}`);
    }
  }
  return small;
}""".replace("TOUCH", str(TOUCH_PX))
CONTRAST = """(element) => {
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
  const [r, g, b, a = 1] = parse(getComputedStyle(element).color);
  const back = behind(element);
  const alpha = a * opacity;
  const fore = [r, g, b].map((c, i) => c * alpha + back[i] * (1 - alpha));
  const luminance = (rgb) => {
    const [R, G, B] = rgb.map((c) => {
      const s = c / 255;
      return s <= 0.03928 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
    });
    return 0.2126 * R + 0.7152 * G + 0.0722 * B;
  };
  const [light, dark] = [luminance(fore), luminance(back)].sort((x, y) => y - x);
  return (light + 0.05) / (dark + 0.05);
}"""


class Findings:
    """What every screen of one mode broke, gathered so one run names them all."""

    def __init__(self) -> None:
        self.problems: list[str] = []

    def check(self, page: Page, screen: str) -> None:
        page.wait_for_timeout(150)  # let a redraw that an event started finish
        if not page.evaluate("typeof window.axe !== 'undefined'"):
            page.add_script_tag(path=str(AXE))
        result: dict[str, Any] = page.evaluate(
            "(tags) => axe.run(document, {runOnly: {type: 'tag', values: tags}})", WCAG_TAGS
        )
        for violation in result["violations"]:
            targets = [json.dumps(node["target"]) for node in violation["nodes"]][:3]
            self.problems.append(
                f"{screen}: {violation['id']} ({violation['help']}) at {', '.join(targets)}"
            )
        wide = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
        if wide[0] > wide[1]:
            self.problems.append(f"{screen}: scrolls sideways ({wide[0]} px in {wide[1]} px)")
        for small in page.evaluate(MEASURE, CONTROLS):
            self.problems.append(f"{screen}: {small}")

    def contrast(self, page: Page, selector: str, screen: str) -> None:
        for element in page.locator(selector).all():
            ratio = element.evaluate(CONTRAST)
            if ratio < 4.5:
                text = element.text_content()
                self.problems.append(f"{screen}: {text!r} has contrast {ratio:.2f}:1")


def device(browser: Browser, mode: str) -> BrowserContext:
    # The app's CSP allows no inline script; axe is injected as one, by the test alone.
    context = browser.new_context(
        **MODES[mode],  # type: ignore[arg-type]
        reduced_motion="reduce",
        bypass_csp=True,
    )
    context.set_default_timeout(WAIT_MS)
    return context


@pytest.mark.parametrize("mode", list(MODES))
def test_every_screen_meets_wcag_2_2_aa(
    bleep_server: Server, chromium: Browser, people: dict[str, Person], mode: str
) -> None:
    found = Findings()
    nurse_phone = device(chromium, mode)
    first = nurse_phone.new_page()
    first.goto(bleep_server.url)
    expect(first.get_by_role("button", name="Sign in")).to_be_visible()
    found.check(first, "sign-in")
    first.close()

    nurse = sign_in(nurse_phone, bleep_server, "amina.okafor")
    found.check(nurse, "send")
    nurse.get_by_label("Search who is on call").fill("2345")
    expect(nurse.locator("#directory-results button")).to_have_count(1)
    found.check(nurse, "send, search results")
    nurse.get_by_role("button", name="Send bleep").click()
    expect(nurse.locator("#message-error")).to_be_visible()
    found.check(nurse, "send, errors shown")

    doctor = sign_in(device(chromium, mode), bleep_server, "omar.haddad")
    found.check(doctor, "inbox, empty")
    with rest_login(bleep_server, "amina.okafor") as rest:
        sent = rest.post(
            "/api/bleeps",
            json={
                "bleep_number": "2345",
                "priority": "urgent",
                "message": "Bed 4 NEWS 7, please review",
                "location": Location.objects.get(name="Ward 7").pk,
                "bed": "4",
                "callback_extension": "4417",
            },
        )
        assert sent.status_code == 201, sent.text
    bleep_id = sent.json()["id"]
    card = doctor.locator(f"#inbox [data-bleep='{bleep_id}']")
    expect(card).to_be_visible()
    found.check(doctor, "inbox, a bleep waiting")
    card.get_by_text("Can't come…").click()
    found.check(doctor, "inbox, decline open")
    doctor.goto(f"{bleep_server.url}/#/bleeps/{bleep_id}")
    expect(doctor.locator("#status-line")).to_be_visible()
    found.check(doctor, "bleep, open")
    doctor.goto(f"{bleep_server.url}/#/account")
    expect(doctor.get_by_role("heading", level=1)).to_be_visible()
    found.check(doctor, "account")

    nurse.goto(f"{bleep_server.url}/#/sent")
    expect(nurse.locator(f"#sent [data-bleep='{bleep_id}']")).to_be_visible()
    found.check(nurse, "sent")
    nurse.goto(f"{bleep_server.url}/#/bleeps/{bleep_id}")
    expect(nurse.locator("#status-line")).to_be_visible()
    found.check(nurse, "bleep, as its sender")

    switchboard = sign_in(device(chromium, mode), bleep_server, "pat.ellis")
    expect(switchboard.locator(f"#board [data-bleep='{bleep_id}']")).to_be_visible()
    found.check(switchboard, "board")

    with rest_login(bleep_server, "amina.okafor") as rest:
        arrest = rest.post(
            "/api/bleeps",
            json={"bleep_number": "2345", "priority": "emergency", "message": "Arrest, bay 2"},
        )
        assert arrest.status_code == 201, arrest.text
    expect(doctor.get_by_role("alertdialog")).to_be_visible()
    found.check(doctor, "emergency")

    # Offline: the banner and a send refused meanwhile, on a page marked stale.
    nurse.goto(f"{bleep_server.url}/#/send")
    nurse.context.set_offline(True)
    nurse.evaluate("window.dispatchEvent(new Event('offline'))")
    expect(nurse.locator("#banner")).to_be_visible()
    found.check(nurse, "offline banner")
    found.contrast(nurse, "#banner p, #banner button", "offline banner")
    nurse.get_by_label("Or type a bleep number").fill("2345")
    nurse.get_by_label("Message").fill("While offline")
    nurse.get_by_role("button", name="Send bleep").click()
    expect(nurse.locator("#view .error").first).to_be_visible()
    found.contrast(nurse, "#view .error", "offline, not sent")
    nurse.context.set_offline(False)

    assert not found.problems, f"{mode}:\n" + "\n".join(found.problems)


def test_a_screen_reader_hears_a_new_bleep_and_its_answer(
    bleep_server: Server, chromium: Browser, people: dict[str, Person]
) -> None:
    doctor = sign_in(device(chromium, "light"), bleep_server, "omar.haddad")
    nurse = sign_in(device(chromium, "light"), bleep_server, "amina.okafor")
    with rest_login(bleep_server, "amina.okafor") as rest:
        sent = rest.post(
            "/api/bleeps",
            json={"bleep_number": "2345", "priority": "urgent", "message": "Bed 4 please"},
        )
        assert sent.status_code == 201, sent.text
    # A new bleep interrupts (assertive); how others answer waits its turn (polite).
    expect(doctor.locator("#announce-urgent[aria-live=assertive]")).to_have_text(
        "New urgent bleep from Amina Okafor"
    )
    doctor.locator(f"#inbox [data-bleep='{sent.json()['id']}']").get_by_role(
        "button", name="Acknowledge: coming now"
    ).click()
    expect(nurse.locator("#announce-polite[aria-live=polite]")).to_contain_text(
        "Acknowledged by Dr Omar Haddad"
    )
