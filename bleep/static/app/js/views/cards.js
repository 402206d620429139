// A bleep as one card in a list; the whole card opens it.

import { badge, clock, h, state, statusLine, target, where } from "../ui.js";

export function bleepCard(bleep, { mine } = {}) {
  return h(
    "a",
    { class: "card", href: `#/bleeps/${bleep.id}`, "data-priority": bleep.priority, "data-status": bleep.status, "data-bleep": String(bleep.id) },
    h("h3", {}, badge(bleep.priority), " ", target(bleep)),
    h("p", { class: "message" }, bleep.message),
    h("p", { class: "meta" },
      h("span", {}, clock(bleep.created_at)),
      h("span", {}, where(bleep) || "No location"),
      h("span", {}, `from ${bleep.sender.name}`),
      mine ? state(mine.status) : null),
    h("p", { class: "meta status", "data-status": bleep.status }, statusLine(bleep)),
  );
}
