"""Draw the phone app's PNG icons from icon.svg with the machine's Chromium.

Run after changing bleep/static/app/icon.svg: `.venv/bin/python scripts/draw_app_icons.py`.
"""

from pathlib import Path

from playwright.sync_api import sync_playwright

from tests.e2e.chromium import CHROMIUM, CHROMIUM_ARGS

APP = Path(__file__).resolve().parents[1] / "bleep" / "static" / "app"
SIZES = (192, 512)


def main() -> None:
    svg = (APP / "icon.svg").read_text()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        for size in SIZES:
            page = browser.new_page(viewport={"width": size, "height": size})
            page.set_content(
                f"<style>html,body{{margin:0}}svg{{width:{size}px;height:{size}px;display:block}}"
                f"</style>{svg}"
            )
            page.screenshot(path=str(APP / f"icon-{size}.png"), omit_background=True)
            page.close()
        browser.close()


if __name__ == "__main__":
    main()
