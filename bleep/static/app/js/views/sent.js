// The bleeps I sent, newest first, each with where it has got to, live.

import { sent, subscribe } from "../store.js";
import { h, replace, state } from "../ui.js";
import { bleepCard } from "./cards.js";

export function renderSent(view) {
  const list = h("ul", { class: "list", id: "sent" });
  replace(view, h("h1", {}, "Sent"), list);

  function draw() {
    const bleeps = sent();
    replace(list, bleeps.length
      ? bleeps.map((bleep) => h("li", {},
          bleepCard(bleep),
          h("p", { class: "meta" }, bleep.deliveries.map((d) => h("span", {}, `${d.recipient.name} `, state(d.status))))))
      : h("li", { class: "empty" }, "You have not sent any bleeps yet."));
  }

  draw();
  return subscribe(draw);
}
