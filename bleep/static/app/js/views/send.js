// Send a bleep: pick a role from the on-call directory (or type a bleep number), say how
// urgent, where, and what; then watch it live.

import { api, ApiError, Offline } from "../api.js";
import { isValidNhsNumber } from "../nhs.js";
import { h, PRIORITIES, PRIORITY_LABEL, replace, showFieldErrors } from "../ui.js";

const SEARCH_DELAY_MS = 250;

export function renderSend(view) {
  let chosen = null; // {role, holders} from the directory
  let searchTimer = null;
  let idempotencyKey = crypto.randomUUID();
  const results = h("ul", { class: "results", id: "directory-results", "aria-label": "On-call roles" });
  const chosenNote = h("p", { class: "chosen", id: "chosen", "aria-live": "polite" });
  const nhsNote = h("p", { class: "hint", id: "nhs-check", "aria-live": "polite" });
  const problem = h("div", { id: "send-problem", role: "alert" });

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
    h("button", { type: "submit", class: "wide" }, "Send bleep"),
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
      const rows = await api("GET", `/on-call?q=${encodeURIComponent(search.value.trim())}`);
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

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
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
    const button = form.querySelector("button[type=submit]");
    button.disabled = true;
    try {
      const bleep = await api("POST", "/bleeps", body);
      location.hash = `#/bleeps/${bleep.id}`;
    } catch (error) {
      if (error instanceof ApiError && error.status === 400) refuse(renamed(error.fields));
      else if (error instanceof Offline) say("Not sent: no connection. Press Send again when back online; it will not be sent twice.");
      else say(`Not sent: ${error.message}`);
    } finally {
      button.disabled = false;
    }
  });

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
    if (first) first.focus();
  }

  function say(text) {
    replace(problem, h("p", { class: "error" }, text));
  }

  replace(view, form);
  lookUp();
  api("GET", "/rota/locations")
    .then((locations) => {
      for (const place of locations) form.location.append(h("option", { value: String(place.id) }, place.name));
    })
    .catch(() => {});
  return () => window.clearTimeout(searchTimer);
}
