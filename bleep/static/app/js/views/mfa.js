// Two-step sign-in: set up an authenticator app, show the recovery codes once, and (from the
// account screen) get new codes or turn it off. The secret and the codes are only ever on
// this screen and in request bodies, never in a URL of Bleep's or in storage.

import { api, ApiError, keepSignIn } from "../api.js";
import { h, replace } from "../ui.js";
import { renderReach } from "./reach.js";

const CODE_PATTERN = "[0-9]{6}";

// Enrol an authenticator. With `enrolment` (the token a sign-in answered with) confirming
// also signs this device in; `done` runs once the recovery codes have been seen.
export function renderEnrol(view, { enrolment = null, done }) {
  const problem = h("p", { class: "error", id: "enrol-problem", role: "alert" });
  const panel = h(
    "section",
    { class: "panel signin", "aria-labelledby": "enrol-title" },
    h("h1", { id: "enrol-title" }, "Set up two-step sign-in"),
    h(
      "p",
      { class: "lead" },
      enrolment
        ? "Your role signs in with a code from an authenticator app as well as your password. Set one up to finish signing in."
        : "Signing in will ask for a code from an authenticator app as well as your password.",
    ),
    problem,
  );
  replace(view, panel);
  api("POST", "/auth/mfa/enrolment", {}, { enrolment })
    .then((started) => panel.append(confirmForm(started, { enrolment, problem, view, done })))
    .catch((error) => {
      problem.textContent = `Could not start: ${error.message}`;
    });
}

function confirmForm(started, { enrolment, problem, view, done }) {
  const form = h(
    "form",
    { novalidate: true, "aria-label": "Confirm the authenticator" },
    h("p", {}, "1. In your authenticator app, add an account with this key, or open the link on this phone:"),
    h("p", {}, h("code", { id: "mfa-secret", class: "secret" }, grouped(started.secret))),
    h("a", { href: started.uri, class: "button secondary" }, "Open in authenticator app"),
    h("label", { for: "mfa-code" }, "2. The 6-digit code the app shows"),
    codeInput("mfa-code"),
    h("button", { type: "submit", class: "wide" }, "Confirm"),
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    problem.textContent = "";
    const button = form.querySelector("button[type=submit]");
    button.disabled = true;
    try {
      const otp = form.querySelector("#mfa-code").value.trim();
      const answer = await api("POST", "/auth/mfa/enrolment/confirm", { otp }, { enrolment });
      renderRecoveryCodes(view, answer, async () => {
        if (answer.token) await keepSignIn(answer);
        await done();
      });
    } catch (error) {
      problem.textContent = codeProblem(error);
      form.querySelector("#mfa-code").focus();
    } finally {
      button.disabled = false;
    }
  });
  window.setTimeout(() => form.querySelector("#mfa-code").focus(), 0);
  return form;
}

// Show the ten recovery codes, once; continue only when the person says they kept them.
export function renderRecoveryCodes(view, answer, next) {
  const kept = h("input", { type: "checkbox", id: "codes-kept" });
  const button = h("button", { type: "button", class: "wide", disabled: true, onclick: next }, "Continue");
  kept.addEventListener("change", () => {
    button.disabled = !kept.checked;
  });
  replace(
    view,
    h(
      "section",
      { class: "panel signin", "aria-labelledby": "codes-title" },
      h("h1", { id: "codes-title" }, "Your recovery codes"),
      h("p", { class: "lead" }, "Each code signs you in once if you lose your phone. Write them down or keep them somewhere safe: they are shown only now."),
      h("ol", { id: "recovery-codes", class: "codes" }, answer.recovery_codes.map((code) => h("li", {}, h("code", {}, code)))),
      h("label", { class: "check" }, kept, " I have kept these codes"),
      button,
    ),
  );
}

// The account screen: whether two-step sign-in is on, and what this person may do with it.
export function renderAccount(view) {
  const panel = h("section", { class: "panel", "aria-labelledby": "account-title" }, h("h1", { id: "account-title" }, "Two-step sign-in"));
  const reach = h("div", { id: "reach" });
  let stop = null;
  replace(view, panel, reach);
  api("GET", "/me")
    .then((me) => {
      panel.append(...accountBody(view, me.mfa));
      const drawn = renderReach(me);
      replace(reach, drawn.panel);
      stop = drawn.unsubscribe;
    })
    .catch((error) => panel.append(h("p", { class: "error", role: "alert" }, `Could not load: ${error.message}`)));
  return () => stop && stop();
}

function accountBody(view, mfa) {
  const again = () => renderAccount(view);
  if (!mfa.enrolled) {
    return [
      h("p", {}, mfa.required ? "Your role requires it: set it up now. Phones already signed in stay signed in." : "Off. Turn it on to ask for a code from an authenticator app at each sign-in."),
      h("button", { type: "button", class: "wide", onclick: () => renderEnrol(view, { done: again }) }, "Set up an authenticator app"),
    ];
  }
  const problem = h("p", { class: "error", id: "account-problem", role: "alert" });
  const form = h(
    "form",
    { novalidate: true, "aria-label": "Two-step sign-in" },
    h("p", {}, mfa.required ? "On; your role requires it." : "On."),
    h("label", { for: "account-code" }, "Code from your authenticator app, or a recovery code"),
    codeInput("account-code", { recovery: true }),
    problem,
    h(
      "div",
      { class: "actions" },
      h("button", { type: "submit", value: "codes" }, "New recovery codes"),
      mfa.required ? null : h("button", { type: "submit", value: "off", class: "danger" }, "Turn off"),
    ),
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    problem.textContent = "";
    const otp = form.querySelector("#account-code").value.trim();
    try {
      if (event.submitter && event.submitter.value === "off") {
        await api("POST", "/auth/mfa/disable", { otp });
        again();
      } else {
        const answer = await api("POST", "/auth/mfa/recovery-codes", { otp });
        renderRecoveryCodes(view, answer, again);
      }
    } catch (error) {
      problem.textContent = codeProblem(error);
    }
  });
  return [form];
}

// A code field: digits by default; with `recovery`, letters too (recovery codes have them).
export function codeInput(id, { recovery = false } = {}) {
  return h("input", {
    id,
    name: "otp",
    autocomplete: "one-time-code",
    inputmode: recovery ? "text" : "numeric",
    pattern: recovery ? null : CODE_PATTERN,
    maxlength: recovery ? 20 : 6,
    autocapitalize: "none",
    spellcheck: false,
    required: true,
  });
}

export function codeProblem(error) {
  if (!(error instanceof ApiError)) return `Could not check the code: ${error.message}`;
  if (error.code === "mfa_invalid") return "That code is wrong, or a recovery code already used. Try the code the app shows now.";
  if (error.code === "mfa_required" || error.code === "invalid") return "Enter the code first.";
  if (error.code === "mfa_throttled") return `Too many wrong codes: wait ${Math.ceil(error.retryAfter || 1)} seconds and try again.`;
  return error.message;
}

function grouped(secret) {
  return secret.match(/.{1,4}/g).join(" ");
}
