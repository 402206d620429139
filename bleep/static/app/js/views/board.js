// Switchboard's board: every open bleep by priority and then oldest first, with its age
// (and whether it is overdue), its escalation so far in words and who at switchboard is
// handling it; take one on, escalate or redirect it by hand; call a whole team in an
// emergency. It shows a page at a time and says how many more are open, and how many of
// those are emergencies and overdue.
// Switchboard is not in most bleeps, so no events arrive for them: the board asks again
// every few seconds, and at once when any event arrives.

import { api, ApiError, listPage, PAGE, wholeList } from "../api.js";
import { store, subscribe, takesOnInstead } from "../store.js";
import {
  badge, clock, duration, emergenciesIn, h, handlingLine, moreLine, replace, showMoreButton, state, target, WAITING, where,
} from "../ui.js";

const REFRESH_EVERY_MS = 5000;

export function renderBoard(view) {
  let rows = [];
  let totals = { count: 0, more: 0, emergencies: 0, overdue: 0 };
  let wanted = PAGE; // how many rows the operator has asked to see ("Show more" adds a page)
  let fetchedAt = Date.now();
  let roles = [];
  const list = h("ul", { class: "list", id: "board" });
  const summary = h("p", { class: "small", id: "board-summary", role: "status" });
  const more = h("div", { id: "board-more" });
  // Flood alerts: a sender past the send limit, or too many bleeps to one role. Read out
  // when they change, and kept above the bleeps: a flood can hide the one that matters.
  const floods = h("div", { id: "board-floods", role: "alert" });
  // People coming on call whom Bleep cannot reach (the check an hour before each shift):
  // switchboard phones them before the shift starts.
  const unreachable = h("div", { id: "board-unreachable", role: "status" });
  const teamCall = h("details", { class: "panel tool", id: "team-call" }, h("summary", {}, "Emergency team call"));
  replace(view, h("h1", {}, "Open bleeps"), floods, unreachable, summary, list, more, teamCall);

  // The first `wanted` rows, a page of at most the server's maximum at a time.
  async function fetchRows() {
    const found = new Map();
    let page;
    do {
      page = await listPage("/switchboard/bleeps", { offset: found.size, limit: wanted - found.size });
      for (const row of page.results) found.set(row.id, row);
    } while (page.more && page.results.length && found.size < wanted);
    return { found: [...found.values()], page };
  }

  async function load() {
    try {
      const [{ found, page }, alerts, warnings] = await Promise.all([
        fetchRows(),
        listPage("/switchboard/alerts", { offset: 0 }).then((answer) => answer.results).catch(() => []),
        listPage("/contactability/warnings", { offset: 0 }).then((answer) => answer.results).catch(() => []),
      ]);
      rows = found;
      totals = { count: page.count, more: Math.max(0, page.count - found.length), emergencies: page.emergencies, overdue: page.overdue };
      fetchedAt = Date.now();
      drawFloods(alerts);
      drawUnreachable(warnings);
      draw();
    } catch (error) {
      if (error instanceof ApiError && error.status === 403) replace(list, h("li", { class: "empty" }, "Only switchboard sees the board."));
    }
  }

  function drawFloods(alerts) {
    const text = alerts.map((alert) => `${alert.detail} (since ${clock(alert.first_at)})`).join("\n");
    if (floods.dataset.text === text) return; // unchanged: do not read it out again
    floods.dataset.text = text;
    replace(floods, alerts.length
      ? h("section", { class: "panel flood", "aria-labelledby": "floods-title" },
          h("h2", { id: "floods-title" }, "Flood of bleeps"),
          h("ul", {}, alerts.map((alert) => h("li", { "data-flood": String(alert.id) }, `${alert.detail} (since ${clock(alert.first_at)})`))))
      : null);
  }

  function drawUnreachable(warnings) {
    const lines = warnings.map((warning) => `${warning.person.name}, ${warning.role.name} from ${clock(warning.shift_start)}`);
    const text = lines.join("\n");
    if (unreachable.dataset.text === text) return;
    unreachable.dataset.text = text;
    replace(unreachable, warnings.length
      ? h("section", { class: "panel flood", "aria-labelledby": "unreachable-title" },
          h("h2", { id: "unreachable-title" }, "Cannot be reached for their next shift"),
          h("ul", {}, lines.map((line, index) => h("li", { "data-warning": String(warnings[index].id) }, line))))
      : null);
  }

  function ageOf(row) {
    return row.age_seconds + (Date.now() - fetchedAt) / 1000;
  }

  function draw() {
    const emergencies = totals.emergencies ? `, ${totals.emergencies} ${totals.emergencies === 1 ? "emergency" : "emergencies"}` : "";
    const overdue = totals.overdue ? `, ${totals.overdue} overdue` : "";
    summary.textContent = rows.length ? `${totals.count} open${emergencies}${overdue}: emergency, urgent, routine; oldest first in each` : "";
    replace(more,
      totals.more ? h("p", { class: "small", id: "board-more-line" }, moreLine(totals.more, totals.emergencies, emergenciesIn(rows))) : null,
      showMoreButton({ listId: "board", more: totals.more, page: PAGE, load: () => { wanted += PAGE; return load(); } }));
    const busy = document.activeElement && list.contains(document.activeElement) && document.activeElement.closest("details[open]");
    if (busy) return tick(); // never pull a form from under the operator's fingers
    const openTools = new Set([...list.querySelectorAll("details[open]")].map((d) => d.dataset.key));
    replace(list, rows.length ? rows.map((row) => h("li", {}, boardCard(row, openTools))) : h("li", { class: "empty" }, "No open bleeps."));
  }

  function tick() {
    for (const element of list.querySelectorAll("[data-age-of]")) {
      const row = rows.find((r) => String(r.id) === element.dataset.ageOf);
      if (!row) continue;
      const seconds = ageOf(row);
      element.textContent = ageText(row, seconds);
      element.dataset.late = String(overdue(row));
    }
  }

  // Past the time the server says it counts as overdue, from this phone's clock.
  function overdue(row) {
    return Date.now() >= new Date(row.overdue_at).getTime();
  }

  // Said in words as well as red: colour alone tells nothing to some operators.
  function ageText(row, seconds) {
    return overdue(row) ? `${duration(seconds)}, overdue` : duration(seconds);
  }

  function boardCard(row, openTools) {
    const seconds = ageOf(row);
    return h(
      "article",
      { class: "card", "data-priority": row.priority, "data-bleep": String(row.id), "aria-labelledby": `board-${row.id}` },
      h("h2", { id: `board-${row.id}` }, badge(row.priority), " ", h("a", { href: `#/bleeps/${row.id}` }, target(row))),
      h("p", { class: "meta" },
        h("span", {}, "Waiting ", h("span", { class: "age", "data-age-of": String(row.id), "data-late": String(overdue(row)) }, ageText(row, seconds))),
        h("span", {}, `sent ${clock(row.created_at)} by ${row.sender.name}`),
        h("span", {}, where(row) || "No location")),
      h("p", { class: "message" }, row.message),
      h("p", { class: "step" }, stepText(row)),
      row.handling.length ? h("p", { class: "handling" }, handlingLine(row)) : null,
      h("p", { class: "meta" }, row.deliveries.map((d) => h("span", {}, `${d.recipient.name} `, state(d.status)))),
      takeOnButton(row),
      tool(row, "escalate", "Escalate", openTools),
      tool(row, "redirect", "Redirect", openTools),
    );
  }

  // Offered to an operator the bleep was sent to and is still waiting on: taking it on stops
  // their reminders and tells everyone, while escalation to clinicians goes on.
  function takeOnButton(row) {
    const mine = row.deliveries.find((d) => store.me && d.recipient.id === store.me.id);
    if (!mine || !WAITING.has(mine.status) || !takesOnInstead(row)) return null;
    const problem = h("p", { class: "error", role: "alert" });
    const button = h("button", { type: "button", class: "wide", onclick: async () => {
      button.disabled = true;
      try {
        await api("POST", `/bleeps/${row.id}/handle`, { note: "phoning the team" });
        await load();
      } catch (error) {
        button.disabled = false;
        problem.textContent = error instanceof ApiError ? error.message : `Not done: ${error.message}`;
      }
    } }, "Take on: I'm phoning the team");
    return h("div", {}, button, problem);
  }

  function stepText(row) {
    return row.escalation ? `Escalation: ${row.escalation.summary}` : "No escalation plan";
  }

  function tool(row, action, label, openTools) {
    const key = `${action}-${row.id}`;
    const problem = h("p", { class: "error", role: "alert" });
    const select = h("select", { id: `${key}-role`, name: "role" },
      action === "escalate" ? h("option", { value: "" }, "Next role up the chain") : h("option", { value: "" }, "Choose a role"),
      roles.map((r) => h("option", { value: String(r.id) }, `${r.name} (${r.bleep_number})`)));
    const form = h("form", { onsubmit: (event) => act(event, row.id, action, select, problem) },
      h("label", { for: `${key}-role` }, action === "escalate" ? "Bring in" : "Send it to"),
      select,
      h("button", { type: "submit", class: action === "redirect" ? "secondary wide" : "wide" }, label),
      problem);
    return h("details", { class: "tool", "data-key": key, open: openTools.has(key) }, h("summary", {}, label), form);
  }

  async function act(event, bleepId, action, select, problem) {
    event.preventDefault();
    problem.textContent = "";
    const body = {};
    if (select.value) body.role = Number(select.value);
    if (action === "redirect" && !select.value) {
      problem.textContent = "Choose the role to send it to.";
      select.focus();
      return;
    }
    try {
      await api("POST", `/bleeps/${bleepId}/${action}`, body);
      await load();
    } catch (error) {
      problem.textContent = error instanceof ApiError ? error.message : `Not done: ${error.message}`;
    }
  }

  async function drawTeamCall() {
    const [teams, locations] = await Promise.all([wholeList("/rota/teams"), wholeList("/rota/locations")]).catch(() => [[], []]);
    const problem = h("p", { class: "error", role: "alert" });
    const form = h("form", { onsubmit: (event) => callTeam(event, problem) },
      h("p", { class: "hint" }, "Bleeps every clinical role of the team as an emergency; each must answer."),
      h("label", { for: "call-team" }, "Team"),
      h("select", { id: "call-team", name: "team", required: true }, teams.map((t) => h("option", { value: String(t.id) }, t.name))),
      h("label", { for: "call-location" }, "Ward"),
      h("select", { id: "call-location", name: "location" }, h("option", { value: "" }, "Not given"), locations.map((l) => h("option", { value: String(l.id) }, l.name))),
      h("label", { for: "call-bed" }, "Bed"),
      h("input", { id: "call-bed", name: "bed", maxlength: "20", autocomplete: "off" }),
      h("label", { for: "call-message" }, "Message"),
      h("input", { id: "call-message", name: "message", maxlength: "500", required: true, autocomplete: "off", value: "Cardiac arrest" }),
      h("button", { type: "submit", class: "danger wide" }, "Call the team now"),
      problem);
    teamCall.append(form);
  }

  async function callTeam(event, problem) {
    event.preventDefault();
    const form = event.target;
    problem.textContent = "";
    const team = form.team.options[form.team.selectedIndex];
    if (!window.confirm(`Emergency call to every role of ${team ? team.text : "the team"}?`)) return;
    try {
      await api("POST", "/team-calls", {
        team: Number(form.team.value),
        message: form.message.value.trim(),
        location: form.location.value ? Number(form.location.value) : null,
        bed: form.bed.value.trim(),
        idempotency_key: crypto.randomUUID(),
      });
      form.closest("details").open = false;
      await load();
    } catch (error) {
      problem.textContent = `Not called: ${error.message}`;
    }
  }

  wholeList("/on-call")
    .then((directory) => {
      roles = directory.map((row) => row.role);
      draw();
    })
    .catch(() => {});
  drawTeamCall();
  load();
  const every = window.setInterval(load, REFRESH_EVERY_MS);
  const ticking = window.setInterval(tick, 1000);
  const unsubscribe = subscribe((change) => {
    if (change.event || change.caughtUp) load();
  });
  return () => {
    window.clearInterval(every);
    window.clearInterval(ticking);
    unsubscribe();
  };
}
