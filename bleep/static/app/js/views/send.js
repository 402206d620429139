// Send a bleep: pick a role from the on-call directory (or type a bleep number), say how
// urgent, where, and what; then watch it live. A send the server cannot take just now (it
// answers 503, or does not answer) is retried by itself with the same idempotency key, so it
// goes once, as soon as it can, unless the nurse stops it.

import { api, ApiError, listPage, Offline, wholeList } from "../api.js";
import { isValidNhsNumber } from "../nhs.js";
import { announce, duration, h, PRIORITIES, PRIORITY_LABEL, replace, showFieldErrors } from "../ui.js";

const SEARCH_DELAY_MS = 250;
// Retries wait 1, 2, 4, 8, then 10 s at most (each with jitter, and never less than the
// server's Retry-After): soon enough that a bleep goes within seconds of the server's return,
// spread enough that a ward's phones do not all come back at once.
const RETRY_FIRST_MS = 1000;
const RETRY_CAP_MS = 10000;
const RETRYING = "Not sent yet — retrying";

// The send under way, kept outside the screen: a nurse told "retrying" may open another
// screen meanwhile, and leaving this one must not quietly drop her bleep. One at a time: the
// form stays locked until it is sent, refused or stopped.
let outbox = null;

window.addEventListener("online", () => {
  if (outbox && outbox.state === "retrying") attempt(outbox);
});

function startSending(body, to, form) {
  outbox = { body, to, form, state: "sending", tries: 0, timer: null, retryAt: null, error: null, bleep: null, show: null };
  attempt(outbox);
  return outbox;
}

async function attempt(sending) {
  window.clearTimeout(sending.timer);
  sending.state = "sending";
  tell(sending);
  try {
    // The same body every time, idempotency key included: however many tries reach the
    // server, one bleep is made.
    const bleep = await api("POST", "/bleeps", sending.body);
    // Sent, even if the nurse pressed Stop while this try was on its way: say so.
    settle(sending, { state: "sent", bleep });
  } catch (error) {
    if (sending.state === "stopped") return;
    if (error instanceof Offline || (error instanceof ApiError && error.unavailable)) retryLater(sending, error);
    else settle(sending, { state: "refused", error });
  }
}

function retryLater(sending, error) {
  const ceiling = Math.min(RETRY_CAP_MS, RETRY_FIRST_MS * 2 ** sending.tries);
  const backoff = ceiling / 2 + Math.random() * (ceiling / 2);
  const wait = Math.max(backoff, (error.retryAfter || 0) * 1000);
  sending.tries += 1;
  sending.state = "retrying";
  sending.error = error;
  sending.retryAt = Date.now() + wait;
  sending.timer = window.setTimeout(() => attempt(sending), wait);
  tell(sending);
}

function stopSending(sending) {
  window.clearTimeout(sending.timer);
  settle(sending, { state: "stopped" });
}

function settle(sending, outcome) {
  window.clearTimeout(sending.timer);
  Object.assign(sending, outcome);
  if (sending.show) {
    sending.show(sending);
    return;
  }
  // Nobody is looking at the Send screen: say it wherever the nurse is; a refusal waits in
  // the outbox for the Send screen to show when she comes back.
  if (sending.state === "sent") announce(`Bleep to ${sending.to} sent.`);
  else announce(`Bleep to ${sending.to} not sent: ${sending.error.message} Open Send to see why.`, true);
  if (sending.state === "sent" && outbox === sending) outbox = null;
}

function tell(sending) {
  if (sending.show) sending.show(sending);
}

export function renderSend(view) {
  let chosen = null; // {role, holders} from the directory
  let searchTimer = null;
  let idempotencyKey = crypto.randomUUID();
  const results = h("ul", { class: "results", id: "directory-results", "aria-label": "On-call roles" });
  const chosenNote = h("p", { class: "chosen", id: "chosen", "aria-live": "polite" });
  const nhsNote = h("p", { class: "hint", id: "nhs-check", "aria-live": "polite" });
  const problem = h("div", { id: "send-problem", role: "alert" });
  const status = h("p", { id: "send-status", role: "status", "aria-live": "polite" });
  const retryNote = h("p", { class: "hint", id: "send-retry" });
  const stop = h("button", { type: "button", class: "secondary wide", id: "send-stop", hidden: true, onclick: () => watching && stopSending(watching) }, "Stop sending");
  let countdownTimer = null;
  let watching = null; // the send this screen shows

  const search = h("input", {
    id: "directory-search", name: "q", type: "search", autocomplete: "off",
    placeholder: "Name, team or bleep number", "aria-describedby": "directory-hint", "aria-controls": "directory-results",
  });
  const number = h("input", {
    id: "bleep-number", name: "bleep_number", inputmode: "numeric", autocomplete: "off", "aria-describedby": "number-hint",
  });
  const nhs = h("input", {
    id: "nhs-number", name: "nhs_number", inputmode: "numeric", autocomplete: "off", maxlength: "12",
    "aria-describedby": "nhs-hint nhs-check", "data-hint": "nhs-hint nhs-check",
  });

  const form = h(
    "form",
    { class: "panel", novalidate: true, "aria-labelledby": "send-title" },
    h("h1", { id: "send-title" }, "Send a bleep"),
    h("fieldset", {},
      h("legend", {}, "Who"),
      h("label", { for: "directory-search" }, "Search who is on call"),
      h("p", { class: "hint", id: "directory-hint" }, "By role, team, bleep number or name; then choose one."),
      search,
      results,
      h("label", { for: "bleep-number" }, "Or type a bleep number"),
      h("p", { class: "hint", id: "number-hint" }, "For example 2345."),
      number,
      chosenNote,
    ),
    h("fieldset", {},
      h("legend", {}, "Priority"),
      h("div", { class: "priorities" },
        PRIORITIES.map((priority) =>
          h("label", {},
            h("input", { type: "radio", name: "priority", value: priority, checked: priority === "routine" }),
            h("span", {}, PRIORITY_LABEL[priority])))),
    ),
    h("div", { class: "row" },
      h("div", {}, h("label", { for: "location" }, "Ward"), h("select", { id: "location", name: "location" }, h("option", { value: "" }, "Not given"))),
      h("div", {}, h("label", { for: "bed" }, "Bed"), h("input", { id: "bed", name: "bed", maxlength: "20", autocomplete: "off" })),
    ),
    h("label", { for: "nhs-number" }, "NHS number (optional)"),
    h("p", { class: "hint", id: "nhs-hint" }, "Ten digits; checked as you type."),
    nhs,
    nhsNote,
    h("label", { for: "message" }, "Message"),
    h("textarea", { id: "message", name: "message", maxlength: "500", required: true }),
    h("label", { for: "callback" }, "Call me back on extension"),
    h("input", { id: "callback", name: "callback_extension", inputmode: "numeric", maxlength: "10", autocomplete: "off" }),
    problem,
    status,
    retryNote,
    h("button", { type: "submit", class: "wide" }, "Send bleep"),
    stop,
  );

  function drawChosen() {
    if (chosen) {
      const holders = chosen.holders.map((p) => p.name).join(", ") || "nobody on shift: goes down its fallback chain";
      chosenNote.textContent = `To: ${chosen.role.name} (bleep ${chosen.role.bleep_number}), ${holders}`;
    } else if (number.value.trim()) {
      chosenNote.textContent = `To: bleep ${number.value.trim()}`;
    } else {
      chosenNote.textContent = "";
    }
  }

  async function lookUp() {
    try {
      const rows = (await listPage(`/on-call?q=${encodeURIComponent(search.value.trim())}`)).results;
      replace(results, rows.map((row) => h("li", {}, resultButton(row))));
      if (!rows.length) replace(results, h("li", {}, h("p", { class: "small", role: "status" }, "No role matches.")));
    } catch {
      replace(results, h("li", {}, h("p", { class: "error" }, "The directory is not reachable now; type a bleep number instead.")));
    }
  }

  function resultButton(row) {
    const pressed = chosen && chosen.role.id === row.role.id;
    return h("button", {
      type: "button", "aria-pressed": pressed ? "true" : "false",
      onclick: () => {
        chosen = row;
        number.value = "";
        for (const other of results.querySelectorAll("button")) other.setAttribute("aria-pressed", "false");
        results.querySelector(`[data-role="${row.role.id}"]`).setAttribute("aria-pressed", "true");
        drawChosen();
      },
      "data-role": String(row.role.id),
    },
    h("strong", {}, row.role.name),
    h("span", { class: "small" }, `Bleep ${row.role.bleep_number} · ${row.role.team}`),
    h("span", { class: "small" }, row.holders.map((p) => p.name).join(", ") || "Nobody on shift now"));
  }

  search.addEventListener("input", () => {
    window.clearTimeout(searchTimer);
    searchTimer = window.setTimeout(lookUp, SEARCH_DELAY_MS);
  });
  number.addEventListener("input", () => {
    if (number.value.trim()) {
      chosen = null;
      for (const other of results.querySelectorAll("button")) other.setAttribute("aria-pressed", "false");
    }
    drawChosen();
  });
  nhs.addEventListener("input", () => {
    const value = nhs.value.replaceAll(" ", "");
    if (!value) {
      nhsNote.textContent = "";
      nhs.removeAttribute("aria-invalid");
    } else if (value.length < 10) {
      nhsNote.textContent = `${value.length} of 10 digits`;
      nhsNote.className = "hint";
      nhs.removeAttribute("aria-invalid");
    } else if (isValidNhsNumber(value)) {
      nhsNote.textContent = "Valid NHS number";
      nhsNote.className = "ok";
      nhs.removeAttribute("aria-invalid");
    } else {
      nhsNote.textContent = "Not a valid NHS number: check the digits";
      nhsNote.className = "error";
      nhs.setAttribute("aria-invalid", "true");
    }
  });
  form.addEventListener("input", (event) => {
    // A changed bleep is a new bleep; an unchanged one re-sent is the same (idempotent).
    if (event.target !== search) idempotencyKey = crypto.randomUUID();
  });

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    if (outbox) return; // one send at a time; the form is locked meanwhile
    replace(problem);
    const body = {
      priority: form.querySelector("input[name=priority]:checked").value,
      message: form.message.value.trim(),
      location: form.location.value ? Number(form.location.value) : null,
      bed: form.bed.value.trim(),
      nhs_number: nhs.value.replaceAll(" ", ""),
      callback_extension: form.callback_extension.value.trim(),
      idempotency_key: idempotencyKey,
    };
    if (chosen) body.role = chosen.role.id;
    else if (number.value.trim()) body.bleep_number = number.value.trim();
    const local = {};
    if (!chosen && !number.value.trim()) local.bleep_number = ["Choose a role or type a bleep number."];
    if (!body.message) local.message = ["Write what you need."];
    if (body.nhs_number && !isValidNhsNumber(body.nhs_number)) local.nhs_number = ["Not a valid NHS number."];
    if (Object.keys(local).length) return refuse(local);
    const to = chosen ? `${chosen.role.name} (${chosen.role.bleep_number})` : `bleep ${body.bleep_number}`;
    watch(startSending(body, to, form));
  });

  function watch(sending) {
    watching = sending;
    sending.show = showSending;
    showSending(sending);
  }

  function showSending(sending) {
    window.clearInterval(countdownTimer);
    const busy = sending.state === "sending" || sending.state === "retrying";
    for (const control of form.elements) if (control !== stop) control.disabled = busy;
    stop.hidden = !(busy && sending.tries > 0);
    form.setAttribute("aria-busy", busy ? "true" : "false");
    if (sending.state === "retrying") {
      // Said once, when retrying starts, not at every try: a screen reader hears it once.
      if (status.textContent !== RETRYING) status.textContent = RETRYING;
      status.className = "error";
      const countdown = () => {
        const seconds = Math.max(0, (sending.retryAt - Date.now()) / 1000);
        const when = seconds >= 1 ? `in ${duration(seconds)}` : "now";
        retryNote.textContent = `${sending.error.message} Your bleep to ${sending.to} goes as soon as the server answers; trying again ${when}.`;
      };
      countdown();
      countdownTimer = window.setInterval(countdown, 1000);
      return;
    }
    if (sending.state === "sending" && sending.tries === 0) {
      status.textContent = "Sending…";
      status.className = "hint";
    }
    if (busy) return;
    if (outbox === sending) outbox = null; // its outcome is on screen now
    replace(retryNote);
    if (sending.state === "sent") {
      status.textContent = "Sent.";
      status.className = "ok";
      announce(`Bleep to ${sending.to} sent.`);
      location.hash = `#/bleeps/${sending.bleep.id}`;
    } else if (sending.state === "stopped") {
      status.textContent = "Not sent: you stopped it. Press Send bleep to try again; it will not be sent twice.";
      status.className = "error";
    } else {
      replace(status);
      refused(sending);
    }
  }

  function refused(sending) {
    const error = sending.error;
    // A server error may be passing: the same key again cannot make a second bleep.
    const again = error.status >= 500 ? " Press Send bleep to try again; it will not be sent twice." : "";
    if (sending.form !== form) say(`Your bleep to ${sending.to} was not sent: ${error.message}`);
    else if (error instanceof ApiError && error.status === 400) refuse(renamed(error.fields));
    else say(`Not sent: ${error.message}${again}`);
  }

  function renamed(fields) {
    // The server names the target "role" whichever way it was given.
    const out = { ...fields };
    if (out.role && !chosen) { out.bleep_number = out.role; delete out.role; }
    if (out.role) { out.q = out.role; delete out.role; }
    return out;
  }

  function refuse(fields) {
    const first = showFieldErrors(form, fields);
    say("Not sent: check the fields marked.");
    if (!first) return;
    first.focus();
    // Focus shows the field but not the error under it, which the tab bar may cover; the
    // page's scroll-padding keeps the bar's height clear.
    const note = document.getElementById(first.getAttribute("aria-describedby").split(" ").at(-1));
    if (note) note.scrollIntoView({ block: "nearest" });
  }

  function say(text) {
    replace(problem, h("p", { class: "error" }, text));
  }

  replace(view, form);
  if (outbox) watch(outbox); // a send still under way (or refused) from an earlier visit
  lookUp();
  wholeList("/rota/locations")
    .then((locations) => {
      for (const place of locations) form.location.append(h("option", { value: String(place.id) }, place.name));
    })
    .catch(() => {});
  return () => {
    window.clearTimeout(searchTimer);
    window.clearInterval(countdownTimer);
    if (watching) watching.show = null; // a send under way carries on without this screen
  };
}
