"""Where Debian's Chromium is, and how the tests and scripts start it (no Django needed)."""

CHROMIUM = "/usr/bin/chromium"
# The machine's network is closed: without the background-networking flags Chromium keeps
# trying to reach Google's services and fills the log with refused connections.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
