// The bleeps sent to me: open ones, the most urgent and newest first; then what this
// device saw answered. Also where this phone turns on notifications for when it is closed.

import { PAGE } from "../api.js";
import { loadMore } from "../lists.js";
import { answered, inbox, myDelivery, store, subscribe } from "../store.js";
import { pushState, pushSupported, turnOnPush } from "../push.js";
import { emergenciesIn, h, moreLine, replace, showMoreButton } from "../ui.js";
import { bleepCard } from "./cards.js";

export function renderInbox(view) {
  const open = h("ul", { class: "list", id: "inbox", "aria-live": "polite", "aria-relevant": "additions" });
  const earlier = h("ul", { class: "list", id: "answered" });
  const more = h("div", { id: "inbox-more", role: "status" });
  const notifications = h("div", { class: "panel", id: "notifications" });
  replace(view, h("h1", {}, "Inbox"), open, more, notifications, h("h2", {}, "Earlier"), earlier);

  function draw() {
    const bleeps = inbox();
    const kept = typedAnswers(open);
    replace(open, bleeps.length
      ? bleeps.map((bleep) => h("li", {}, bleepCard(bleep, { mine: myDelivery(bleep) })))
      : h("li", { class: "empty" }, "No open bleeps for you."));
    restoreAnswers(open, kept);
    const { more: left, emergencies } = store.pages.inbox;
    replace(more, left ? h("p", { class: "small" }, moreLine(left, emergencies, emergenciesIn(bleeps))) : null,
      showMoreButton({ listId: "inbox", more: left, page: PAGE, load: () => loadMore("inbox") }));
    const done = answered();
    replace(earlier, done.length
      ? done.slice(0, 20).map((bleep) => h("li", {}, bleepCard(bleep, { mine: myDelivery(bleep) })))
      : h("li", { class: "empty" }, "Nothing answered yet on this device."));
  }

  drawNotifications(notifications);
  draw();
  return subscribe(draw);
}

// A decline being written survives the list being drawn again when an event arrives.
function typedAnswers(list) {
  const focused = document.activeElement && list.contains(document.activeElement) ? document.activeElement.id : null;
  const open = [...list.querySelectorAll(".quick details[open]")].map((details) => {
    const input = details.querySelector("input");
    return { id: input.id, value: input.value };
  });
  return { focused, open };
}

function restoreAnswers(list, { focused, open }) {
  for (const { id, value } of open) {
    const input = list.querySelector(`#${CSS.escape(id)}`);
    if (!input) continue;
    input.closest("details").open = true;
    input.value = value;
  }
  const again = focused && list.querySelector(`#${CSS.escape(focused)}`);
  if (again) again.focus({ preventScroll: true });
}

async function drawNotifications(panel) {
  if (!pushSupported()) {
    replace(panel, h("p", { class: "small" }, "This browser cannot show bleeps while the app is closed. On an iPhone, add Bleep to the home screen first (Share, then Add to Home Screen)."));
    return;
  }
  const current = await pushState().catch(() => "off");
  if (current === "on") {
    replace(panel, h("p", { class: "ok" }, "Notifications are on: bleeps reach this phone when the app is closed."));
    return;
  }
  if (current === "blocked") {
    replace(panel, h("p", { class: "error" }, "Notifications are blocked for Bleep in this browser's settings: bleeps will only show while the app is open."));
    return;
  }
  const problem = h("p", { class: "error", role: "alert" });
  const button = h("button", { type: "button", class: "secondary wide", onclick: async () => {
    button.disabled = true;
    try {
      await turnOnPush();
      drawNotifications(panel);
    } catch (error) {
      problem.textContent = `Notifications not turned on: ${error.message}`;
      button.disabled = false;
    }
  } }, "Turn on notifications");
  replace(panel, h("p", {}, "Bleeps reach this phone while the app is closed only with notifications on."), button, problem);
}
