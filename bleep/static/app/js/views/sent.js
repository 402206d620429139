// The bleeps I sent, newest first, each with where it has got to, live.

import { PAGE } from "../api.js";
import { loadMore } from "../lists.js";
import { sent, store, subscribe } from "../store.js";
import { h, replace, showMoreButton } from "../ui.js";
import { bleepCard } from "./cards.js";

export function renderSent(view) {
  const list = h("ul", { class: "list", id: "sent" });
  const more = h("div", { id: "sent-more" });
  replace(view, h("h1", {}, "Sent"), list, more);

  function draw() {
    const bleeps = sent();
    replace(list, bleeps.length
      ? bleeps.map((bleep) => h("li", {}, bleepCard(bleep, { recipients: true })))
      : h("li", { class: "empty" }, "You have not sent any bleeps yet."));
    const left = store.pages.sent.more;
    replace(more, showMoreButton({ listId: "sent", more: left, page: PAGE, load: () => loadMore("sent") }));
  }

  draw();
  return subscribe(draw);
}
