// The one-tap answers a waiting recipient gives from a list or the emergency screen:
// acknowledge with when they will come, in one tap; decline with a reason, one tap further.
// The bleep's own screen has the fuller form (a note, any ETA).

import { api, ApiError } from "./api.js";
import { putBleep } from "./store.js";
import { h } from "./ui.js";

// Minutes offered as one tap each; 0 is "coming now".
export const QUICK_ETAS = [0, 5, 10, 15];

function etaLabel(minutes) {
  return minutes === 0 ? "Now" : `${minutes} min`;
}

// `done(bleep)` runs once the server has taken the answer.
export function quickAnswers(bleep, { done = () => {}, idPrefix = "quick", etas: offered = QUICK_ETAS, label = "Acknowledge, coming:" } = {}) {
  const key = `${idPrefix}-${bleep.id}`;
  const problem = h("p", { class: "error", role: "alert", id: `${key}-error` });
  const buttons = [];

  async function send(action, body, button) {
    problem.textContent = "";
    for (const other of buttons) other.disabled = true;
    try {
      const answered = await api("POST", `/bleeps/${bleep.id}/${action}`, body);
      putBleep(answered);
      done(answered);
    } catch (error) {
      for (const other of buttons) other.disabled = false;
      problem.textContent = error instanceof ApiError ? error.message : `Not sent: ${error.message}`;
      if (button && button.isConnected) button.focus();
    }
  }

  const etas = offered.map((minutes) => {
    const button = h("button", {
      type: "button",
      class: "eta",
      "aria-label": minutes === 0 ? "Acknowledge: coming now" : `Acknowledge: coming in ${etaLabel(minutes)}`,
      onclick: () => send("acknowledge", { eta_minutes: minutes, comment: "" }, button),
    }, etaLabel(minutes));
    buttons.push(button);
    return button;
  });
  const reason = h("input", { id: `${key}-reason`, name: "reason", maxlength: "200", autocomplete: "off", placeholder: "e.g. in theatre" });
  const declineButton = h("button", { type: "submit", class: "danger" }, "Decline");
  buttons.push(declineButton);
  const decline = h("details", { class: "decline" },
    h("summary", {}, "Can't come…"),
    h("form", { onsubmit: (event) => {
      event.preventDefault();
      const why = reason.value.trim();
      if (!why) {
        problem.textContent = "Say why you cannot come.";
        reason.focus();
        return;
      }
      send("decline", { reason: why }, declineButton);
    } },
    h("label", { for: `${key}-reason` }, "Why you cannot come"),
    reason,
    declineButton));
  return h("div", { class: "quick", "data-answer-of": String(bleep.id) },
    h("p", { class: "quick-label", id: `${key}-label` }, label),
    h("div", { class: "etas", role: "group", "aria-labelledby": `${key}-label` }, etas),
    decline,
    problem);
}
