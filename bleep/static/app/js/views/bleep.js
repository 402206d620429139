// One bleep: its state live (each recipient's copy), what it says, and the answers its
// recipient can give: acknowledge with an ETA, decline with a reason, reply; for switchboard
// on a clinician's bleep, take it on, escalate or redirect. Its thread and its append-only
// history below.

import { api, ApiError, wholeList } from "../api.js";
import { markRead } from "../live.js";
import { myDelivery, putBleep, store, subscribe, takesOnInstead } from "../store.js";
import { badge, callbackLink, clock, h, replace, state, statusLine, target, WAITING, where, words } from "../ui.js";

const ETAS = [null, 2, 5, 10, 15, 20, 30, 45, 60];
const REFRESH_DELAY_MS = 300;
export function renderBleep(view, bleepId) {
  let thread = null; // the bleep with replies and history, from REST
  let refreshTimer = null;
  let readSent = false;
  let roles = null; // for switchboard's redirect, from the on-call directory
  const top = h("div", { class: "panel" });
  const live = h("div", { class: "panel", "aria-live": "polite", id: "bleep-state" });
  const answers = h("div", { class: "panel" });
  const repliesBox = h("div", { id: "replies" });
  const historyBox = h("ol", { class: "timeline", id: "history" });
  const replyForm = replyBox();
  const threadPanel = h("div", { class: "panel" }, h("h2", {}, "Replies"), repliesBox, replyForm, h("h2", {}, "History"), historyBox);
  replace(view, h("a", { href: "#/", class: "back", onclick: back }, "← Back"), top, live, answers, threadPanel);

  function back(event) {
    event.preventDefault();
    history.length > 1 ? history.back() : (location.hash = "#/");
  }

  function bleep() {
    return store.bleeps.get(bleepId);
  }

  function draw() {
    const current = bleep();
    if (!current) {
      replace(top, h("p", {}, thread === null ? "Loading…" : "No such bleep, or not one of yours."));
      return;
    }
    drawTop(current);
    drawState(current);
    drawAnswers(current);
    drawThread();
    if (!readSent) {
      const mine = myDelivery(current);
      if (mine && (mine.status === "sent" || mine.status === "delivered") && current.status === "open") {
        readSent = true;
        markRead(bleepId);
      }
    }
  }

  function drawTop(current) {
    replace(
      top,
      h("p", {}, badge(current.priority), " ", h("span", { class: "small" }, `${clock(current.created_at)} from ${current.sender.name}`)),
      h("h1", {}, target(current)),
      h("p", { class: "message" }, current.message),
      h("dl", { class: "facts" },
        h("dt", {}, "Where"), h("dd", {}, where(current) || "Not given"),
        current.nhs_number ? [h("dt", {}, "NHS number"), h("dd", {}, current.nhs_number.replace(/(\d{3})(\d{3})(\d{4})/, "$1 $2 $3"))] : null,
        h("dt", {}, "Call back"), h("dd", {}, current.callback_extension ? ["Extension ", callbackLink(current.callback_extension)] : "Not given")),
    );
  }

  function drawState(current) {
    replace(
      live,
      h("h2", {}, "Now"),
      h("p", { class: "status-line", "data-status": current.status, id: "status-line" }, statusLine(current)),
      h("h3", {}, "Each recipient"),
      h("ul", { class: "recipients" },
        current.deliveries.map((delivery) =>
          h("li", { "data-recipient": String(delivery.recipient.id) },
            h("span", {}, delivery.recipient.name),
            h("span", {}, state(delivery.status), " ", h("span", { class: "small" }, clock(delivery.updated_at))),
            delivery.decline_reason ? h("span", { class: "small" }, `“${delivery.decline_reason}”`) : null))),
    );
  }

  function drawAnswers(current) {
    const mine = myDelivery(current);
    const parts = [];
    const answering = current.status === "open" && mine && (WAITING.has(mine.status) || mine.status === "handling");
    if (answering && takesOnInstead(current)) parts.push(switchboardTools(current, mine));
    else if (current.status === "open" && mine && WAITING.has(mine.status)) parts.push(answerForm(current));
    else if (mine && mine.status === "cancelled" && current.status === "open") parts.push(h("p", {}, "This bleep was redirected to someone else."));
    const mayCancel = current.status === "open" && store.me && (current.sender.id === store.me.id || store.me.job === "switchboard");
    if (mayCancel) parts.push(h("button", { type: "button", class: "secondary", onclick: cancel }, "Cancel this bleep"));
    answers.hidden = parts.length === 0;
    // Keep a form being typed in: only draw it again when what it offers changes.
    const key = parts.map((p) => p.dataset.key || p.textContent).join("|");
    if (answers.dataset.key === key) return;
    answers.dataset.key = key;
    replace(answers, parts);
  }

  function answerForm(current) {
    const problem = h("p", { class: "error", role: "alert" });
    const acknowledge = h(
      "form",
      { "aria-labelledby": "answer-title", onsubmit: (e) => submit(e, "acknowledge", problem) },
      h("h2", { id: "answer-title" }, "Answer"),
      h("label", { for: "eta" }, "Coming in"),
      h("select", { id: "eta", name: "eta_minutes" }, ETAS.map((m) => h("option", { value: m === null ? "" : String(m) }, m === null ? "No time given" : `${m} minutes`))),
      h("label", { for: "ack-comment" }, "Note (optional)"),
      h("input", { id: "ack-comment", name: "comment", maxlength: "200", autocomplete: "off" }),
      h("button", { type: "submit", class: "wide" }, "Acknowledge"),
    );
    const decline = h(
      "form",
      { onsubmit: (e) => submit(e, "decline", problem) },
      h("label", { for: "decline-reason" }, "Can't come? Say why"),
      h("input", { id: "decline-reason", name: "reason", maxlength: "200", autocomplete: "off", placeholder: "e.g. in theatre" }),
      h("button", { type: "submit", class: "wide danger" }, "Decline"),
    );
    const box = h("div", { "data-key": `answer-${current.id}` }, acknowledge, decline, problem);
    return box;
  }

  // Switchboard's answers to a clinician's bleep: none of them ends it (HZ-12).
  function switchboardTools(current, mine) {
    const problem = h("p", { class: "error", role: "alert" });
    const takeOn = WAITING.has(mine.status)
      ? h(
          "form",
          { "aria-labelledby": "answer-title", onsubmit: (e) => submit(e, "handle", problem) },
          h("h2", { id: "answer-title" }, "Switchboard"),
          h("p", { class: "hint" }, "A clinician must acknowledge this bleep. Take it on while you find one: everyone sees you are handling it, and escalation to clinicians goes on."),
          h("label", { for: "handle-note" }, "What you are doing"),
          h("input", { id: "handle-note", name: "note", maxlength: "200", autocomplete: "off", value: "phoning the team" }),
          h("button", { type: "submit", class: "wide" }, "Take it on"),
        )
      : h("div", {},
          h("h2", { id: "answer-title" }, "Switchboard"),
          h("p", {}, "You are handling this. A clinician must still acknowledge it; escalation goes on."));
    const escalate = h("button", { type: "button", class: "secondary wide", onclick: () => act("escalate", {}, problem) }, "Escalate now");
    const select = h("select", { id: "redirect-role", name: "role" }, h("option", { value: "" }, "Choose a role"),
      (roles || []).map((r) => h("option", { value: String(r.id) }, `${r.name} (${r.bleep_number})`)));
    const redirect = h(
      "form",
      { onsubmit: (e) => { e.preventDefault(); act("redirect", { role: Number(select.value) }, problem, select); } },
      h("label", { for: "redirect-role" }, "Send it to"),
      select,
      h("button", { type: "submit", class: "secondary wide" }, "Redirect"),
    );
    if (roles === null) loadRoles();
    return h("div", { "data-key": `switchboard-${current.id}-${mine.status}-${roles ? roles.length : 0}` }, takeOn, escalate, redirect, problem);
  }

  async function loadRoles() {
    roles = [];
    try {
      roles = (await wholeList("/on-call")).map((row) => row.role);
    } catch {
      return; // the redirect list stays empty; the board has one too
    }
    draw();
  }

  async function act(action, body, problem, select = null) {
    problem.textContent = "";
    if (select && !select.value) {
      problem.textContent = "Choose the role to send it to.";
      select.focus();
      return;
    }
    try {
      putBleep(await api("POST", `/bleeps/${bleepId}/${action}`, body));
      draw();
    } catch (error) {
      problem.textContent = error instanceof ApiError ? error.message : `Not done: ${error.message}`;
    }
  }

  async function submit(event, action, problem) {
    event.preventDefault();
    const form = event.target;
    problem.textContent = "";
    let body;
    if (action === "acknowledge") {
      body = { eta_minutes: form.eta_minutes.value ? Number(form.eta_minutes.value) : null, comment: form.comment.value.trim() };
    } else if (action === "handle") {
      body = { note: form.note.value.trim() };
    } else {
      body = { reason: form.reason.value.trim() };
      if (!body.reason) {
        problem.textContent = "Say why you cannot come.";
        form.reason.focus();
        return;
      }
    }
    try {
      putBleep(await api("POST", `/bleeps/${bleepId}/${action}`, body));
      draw();
    } catch (error) {
      problem.textContent = error instanceof ApiError && error.status === 409 ? error.message : `Not done: ${error.message}`;
    }
  }

  async function cancel() {
    if (!window.confirm("Cancel this bleep? Nobody will be bleeped about it again.")) return;
    try {
      putBleep(await api("POST", `/bleeps/${bleepId}/cancel`));
      draw();
    } catch (error) {
      window.alert(`Not cancelled: ${error.message}`);
    }
  }

  function drawThread() {
    if (!thread) {
      replace(repliesBox, h("p", { class: "small" }, "Loading…"));
      return;
    }
    replace(
      repliesBox,
      thread.replies.length
        ? h("ul", { class: "timeline" }, thread.replies.map((r) => h("li", {}, h("time", {}, clock(r.created_at)), h("strong", {}, r.author.name), ": ", r.text)))
        : h("p", { class: "small" }, "No replies yet."),
    );
    replyForm.hidden = thread.status === "cancelled";
    replace(historyBox, historyLines(thread.history).map(([at, text]) => h("li", {}, h("time", {}, at), text)));
  }

  // An answer moves the copy and the bleep, two rows of the history with one meaning: a line
  // that says again what the line before it said, in the same minute, is shown once.
  function historyLines(entries) {
    const lines = [];
    for (const entry of entries) {
      const line = [clock(entry.at), historyText(entry)];
      const last = lines[lines.length - 1];
      if (!last || last[0] !== line[0] || last[1] !== line[1]) lines.push(line);
    }
    return lines;
  }

  function historyText(entry) {
    const what = words("actions", entry.action);
    const who = entry.actor ? entry.actor.name : "Bleep";
    const recipient = entry.delivery && bleep() ? (bleep().deliveries.find((d) => d.id === entry.delivery) || {}).recipient : null;
    if (entry.action === "send" && recipient) return `${recipient.name}'s copy sent`;
    if (entry.detail && entry.detail.channel) {
      // A push, text or page: which, to whom, and what became of it (and why, if it failed).
      const channel = words("channels", entry.detail.channel);
      const why = entry.detail.why ? ` (${entry.detail.why})` : "";
      return `${channel}${recipient ? ` to ${recipient.name}` : ""}: ${entry.detail.outcome}${why}`;
    }
    if (entry.detail && entry.detail.reason) return `${who}: ${what} (“${entry.detail.reason}”)`;
    return `${who}: ${what}`;
  }

  function replyBox() {
    const form = h(
      "form",
      { onsubmit: sendReply },
      h("label", { for: "reply-text" }, "Reply"),
      h("input", { id: "reply-text", name: "text", maxlength: "500", autocomplete: "off" }),
      h("button", { type: "submit", class: "secondary wide" }, "Send reply"),
    );
    return form;
  }

  async function sendReply(event) {
    event.preventDefault();
    const form = event.target;
    const text = form.text.value.trim();
    if (!text) return;
    try {
      await api("POST", `/bleeps/${bleepId}/replies`, { text });
      form.text.value = "";
      refresh();
    } catch (error) {
      window.alert(`Reply not sent: ${error.message}`);
    }
  }

  async function refresh() {
    try {
      thread = await api("GET", `/bleeps/${bleepId}`);
      putBleep(thread);
    } catch (error) {
      if (!(error instanceof ApiError)) return;
      thread = false;
    }
    draw();
  }

  const unsubscribe = subscribe((change) => {
    const event = change.event;
    if (event && (event.bleep_id === bleepId || (event.bleep && event.bleep.id === bleepId))) {
      draw();
      window.clearTimeout(refreshTimer);
      refreshTimer = window.setTimeout(refresh, REFRESH_DELAY_MS);
    } else if (change.snapshot || change.caughtUp) {
      draw();
    }
  });
  draw();
  refresh();
  return () => {
    unsubscribe();
    window.clearTimeout(refreshTimer);
  };
}
