"""The nurse's send form on a phone: what it shows when the server refuses a field."""

import pytest
from playwright.sync_api import Browser, FloatRect, Locator, expect

from messaging.models import Bleep
from rota.models import Person
from tests import factories
from tests.e2e.browser import phone, sign_in
from tests.e2e.conftest import Server

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def box(locator: Locator) -> FloatRect:
    found = locator.bounding_box()
    assert found is not None, f"{locator} is not shown"
    return found


@pytest.mark.parametrize(
    "message_top_from_bar",
    [pytest.param(8, id="message under the bar"), pytest.param(-110, id="message just above it")],
)
def test_a_refused_field_low_on_the_screen_is_shown_with_its_error_above_the_tab_bar(
    bleep_server: Server, chromium: Browser, people: dict[str, Person], message_top_from_bar: int
) -> None:
    # A hospital's directory is long: the message box starts below the first screen.
    for extra in range(3000, 3012):
        factories.make_role(f"Role {extra}", bleep_number=str(extra))
    nurse = sign_in(phone(chromium), bleep_server, "amina.okafor")
    expect(nurse.locator("#directory-results button")).to_have_count(14)
    nurse.get_by_label("Or type a bleep number").fill("2345")
    # The nurse has scrolled the message box down to the tab bar, then presses Enter in
    # the number box (a keyboard's Go), which sends at once, with no message yet.
    nurse.evaluate(
        """(offset) => {
            const bar = document.getElementById("tabs").getBoundingClientRect().top;
            const message = document.getElementById("message").getBoundingClientRect().top;
            window.scrollBy(0, message - bar + offset);
            document.getElementById("bleep-number").focus({ preventScroll: true });
        }""",
        -message_top_from_bar,
    )
    nurse.keyboard.press("Enter")

    field = nurse.get_by_label("Message")
    expect(field).to_be_focused()
    error = nurse.locator("#message-error")
    expect(error).to_contain_text("Write what you need.")
    bar_top = box(nurse.locator("#tabs"))["y"]
    for shown in (field, error):
        place = box(shown)
        assert place["y"] >= 0, f"{shown} is above the screen"
        assert place["y"] + place["height"] <= bar_top, f"{shown} is under the tab bar"
    assert not Bleep.objects.exists()
