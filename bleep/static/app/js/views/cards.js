// A bleep as one card in a list: its title opens it (and so does a tap anywhere on the card
// outside its controls); one waiting for me carries the one-tap answers, and one I sent
// lists each recipient's copy inside the card.

import { quickAnswers } from "../answers.js";
import { badge, callbackLink, clock, h, state, statusLine, target, WAITING, where } from "../ui.js";

export function bleepCard(bleep, { mine, recipients = false } = {}) {
  const answering = mine && bleep.status === "open" && WAITING.has(mine.status);
  return h(
    "article",
    { class: "card", "data-priority": bleep.priority, "data-status": bleep.status, "data-bleep": String(bleep.id), "aria-labelledby": `card-${bleep.id}` },
    h("h2", { id: `card-${bleep.id}` }, badge(bleep.priority), " ", h("a", { class: "open", href: `#/bleeps/${bleep.id}` }, target(bleep))),
    h("p", { class: "message" }, bleep.message),
    h("p", { class: "meta" },
      h("span", {}, clock(bleep.created_at)),
      h("span", {}, where(bleep) || "No location"),
      h("span", {}, `from ${bleep.sender.name}`),
      bleep.callback_extension ? h("span", { class: "above" }, "call back ", callbackLink(bleep.callback_extension)) : null,
      mine ? state(mine.status) : null),
    h("p", { class: "meta status", "data-status": bleep.status }, statusLine(bleep)),
    recipients
      ? h("ul", { class: "meta recipients-line", "aria-label": "Each recipient" },
          bleep.deliveries.map((d) => h("li", {}, `${d.recipient.name} `, state(d.status))))
      : null,
    answering ? h("div", { class: "above" }, quickAnswers(bleep, { idPrefix: "card" })) : null,
  );
}
