// Small helpers for building the page: elements, words, times, announcements.

// Build an element: h("button", {class: "wide", onclick: fn}, "Send").
export function h(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith("on")) element.addEventListener(name.slice(2), value);
    else if (name === "class") element.className = value;
    else if (name in element && !name.includes("-") && name !== "list" && name !== "form") {
      element[name] = value;
    } else element.setAttribute(name, value === true ? "" : value);
  }
  element.append(...children.flat().filter((child) => child !== null && child !== undefined && child !== false));
  return element;
}

export function replace(node, ...children) {
  node.replaceChildren(...children.flat().filter(Boolean));
  return node;
}

export const PRIORITIES = ["routine", "urgent", "emergency"];
export const PRIORITY_LABEL = { routine: "Routine", urgent: "Urgent", emergency: "Emergency" };
// The words for each action, escalation step and status, as the server names them (the
// `words` of /api/me, from messaging/actions.py): the app keeps no copy of its own.
const WORDS = { actions: {}, steps: {}, statuses: {}, jobs: {} };
// Dialled before a callback extension (CALLBACK_DIAL_PREFIX, from /api/me).
let dialPrefix = "";

export function learnWords(me) {
  if (me && me.words) Object.assign(WORDS, me.words);
  if (me && typeof me.dial_prefix === "string") dialPrefix = me.dial_prefix;
}

// A callback extension as a link that calls it: the extension shown, the prefix dialled.
export function callbackLink(extension) {
  return h("a", { class: "tel", href: `tel:${dialPrefix}${extension}` }, extension);
}

// What to show for `value` (an action, a step or a status); the value itself if unknown.
export function words(kind, value) {
  return WORDS[kind][value] || value;
}
export const WAITING = new Set(["sent", "delivered", "read"]);

export function target(bleep) {
  if (bleep.role) return `${bleep.role.name} (${bleep.role.bleep_number})`;
  if (bleep.person) return bleep.person.name;
  return "Bleep";
}

export function where(bleep) {
  return [bleep.location, bleep.bed && `bed ${bleep.bed}`].filter(Boolean).join(", ");
}

export function clock(iso) {
  if (!iso) return "";
  return new Date(iso).toLocaleTimeString("en-GB", { hour: "2-digit", minute: "2-digit" });
}

export function duration(seconds) {
  const s = Math.max(0, Math.floor(seconds));
  if (s < 60) return `${s} s`;
  const minutes = Math.floor(s / 60);
  if (minutes < 60) return `${minutes} min ${String(s % 60).padStart(2, "0")} s`;
  return `${Math.floor(minutes / 60)} h ${String(minutes % 60).padStart(2, "0")} min`;
}

export function badge(priority) {
  return h("span", { class: "badge", "data-priority": priority }, PRIORITY_LABEL[priority] || priority);
}

export function state(status) {
  return h("span", { class: "state", "data-status": status }, words("statuses", status));
}

// Who at switchboard has taken the bleep on: never an acknowledgement, and said so.
export function handlingLine(bleep) {
  return (bleep.handling || [])
    .map((taken) => `Switchboard (${taken.by.name}) is handling${taken.note ? `: ${taken.note}` : " it"}`)
    .join("; ");
}

// What a bleep's people most need to know, in one line.
export function statusLine(bleep) {
  if (bleep.status === "acknowledged") {
    const who = bleep.acknowledged_by ? bleep.acknowledged_by.name : "someone";
    const mine = (bleep.deliveries || []).find((d) => d.status === "acknowledged");
    const eta = mine && mine.eta_minutes !== null && mine.eta_minutes !== undefined ? `, coming in ${mine.eta_minutes} min` : "";
    const comment = mine && mine.comment ? ` (“${mine.comment}”)` : "";
    return `Acknowledged by ${who}${eta}${comment}`;
  }
  if (bleep.status === "cancelled") return "Cancelled";
  const waiting = (bleep.deliveries || []).filter((d) => WAITING.has(d.status));
  const handling = handlingLine(bleep);
  if (handling) {
    const still = waiting.length ? `waiting for ${waiting.map((d) => d.recipient.name).join(", ")}` : "escalating";
    return `Open: ${handling}; ${still}`;
  }
  if (waiting.length === 0) return "Open: everyone declined, escalating";
  return `Open: waiting for ${waiting.map((d) => d.recipient.name).join(", ")}`;
}

// Say something to screen-reader users; urgent interrupts them.
export function announce(text, urgent = false) {
  const region = document.getElementById(urgent ? "announce-urgent" : "announce-polite");
  if (!region) return;
  region.textContent = "";
  window.setTimeout(() => { region.textContent = text; }, 50);
}

// Show each field's messages from a 400 next to its input; return the first bad input.
export function showFieldErrors(form, fields) {
  let first = null;
  for (const element of form.querySelectorAll("[aria-invalid]")) element.removeAttribute("aria-invalid");
  for (const old of form.querySelectorAll(".field-error")) old.remove();
  for (const [name, messages] of Object.entries(fields || {})) {
    const input = form.querySelector(`[name="${CSS.escape(name)}"]`);
    const text = Array.isArray(messages) ? messages.join(" ") : String(messages);
    if (!input) continue;
    const id = `${input.id || name}-error`;
    input.setAttribute("aria-invalid", "true");
    const note = h("p", { class: "error field-error", id }, text);
    input.insertAdjacentElement("afterend", note);
    input.setAttribute("aria-describedby", [input.dataset.hint, id].filter(Boolean).join(" "));
    first = first || input;
  }
  return first;
}

// "12 more open, 3 emergencies": what a list holds past what is shown, with how many of the
// list's emergencies are not shown (the server sends them first, so usually none are).
export function moreLine(more, emergencies, shownEmergencies) {
  if (!more) return "";
  const hidden = Math.min(more, Math.max(0, emergencies - shownEmergencies));
  const those = hidden ? `, ${hidden} ${hidden === 1 ? "emergency" : "emergencies"}` : "";
  return `${more} more open${those}`;
}

export function emergenciesIn(bleeps) {
  return bleeps.filter((bleep) => bleep.priority === "emergency").length;
}

// The button under a paged list that loads its next page; it names the list it grows and
// says how many it adds, and is disabled while that page loads.
export function showMoreButton({ listId, more, page, load }) {
  if (!more) return null;
  const count = Math.min(more, page);
  const button = h("button", { type: "button", class: "secondary wide more", "aria-controls": listId, onclick: async () => {
    button.disabled = true;
    button.textContent = "Loading…";
    try {
      await load();
    } catch {
      button.disabled = false;
      button.textContent = `Show ${count} more (not reachable now; try again)`;
    }
  } }, `Show ${count} more`);
  return button;
}
