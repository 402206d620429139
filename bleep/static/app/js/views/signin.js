// Sign in this device. The token stays on the device until it signs out. People with
// two-step sign-in are asked for their code when the server says so; people whose role
// requires it and who have none yet set it up before the device is signed in. The same
// form, with the person's name fixed, signs in again before the token ends (renewal.js).

import { ApiError, guessDeviceName, signIn, signInOptions, startSso } from "../api.js";
import { armSound } from "../emergency.js";
import { h, replace } from "../ui.js";
import { codeInput, codeProblem, renderEnrol } from "./mfa.js";

export function renderSignIn(view, done) {
  const onEnrol = (enrolment) => renderEnrol(view, { enrolment, done });
  const form = signInForm({ done, onEnrol });
  replace(view, form);
  form.username.focus();
  // With single sign-on set up, its button comes first; without password sign-in, alone.
  signInOptions()
    .then((options) => {
      if (options.sso) offerSso(form, options);
    })
    .catch(() => {});
}

function offerSso(form, { provider_name: provider, start_url: startUrl, password_sign_in: passwords }) {
  const button = h("button", { type: "button", class: "wide", id: "sign-in-sso" }, `Sign in with ${provider}`);
  button.addEventListener("click", () => startSso(startUrl, form.device_name.value.trim() || guessDeviceName()));
  const lead = form.querySelector(".lead");
  (lead || form.firstChild).after(button);
  if (passwords) {
    button.after(h("p", { class: "hint", id: "or-password" }, "Or with a Bleep username and password:"));
  } else {
    for (const id of ["username", "password"]) {
      form.querySelector(`#${id}`).hidden = true;
      form.querySelector(`label[for=${id}]`).hidden = true;
    }
    form.querySelector("button[type=submit]").hidden = true;
  }
  button.focus();
}

// The sign-in form. With `username`, it signs that person in again: the name is fixed and
// the new device keeps `deviceName`.
export function signInForm({ done, username = null, deviceName = null, onEnrol = null }) {
  const again = username !== null;
  const problem = h("p", { class: "error", id: "signin-problem", role: "alert" });
  const otp = codeInput("otp");
  const useRecovery = h("button", { type: "button", class: "secondary" }, "Use a recovery code instead");
  const otpField = h(
    "div",
    { hidden: true, id: "otp-field" },
    h("label", { for: "otp", id: "otp-label" }, "Code from your authenticator app"),
    h("p", { class: "hint", id: "otp-hint" }, "The 6 digits it shows now."),
    otp,
    useRecovery,
  );
  otp.setAttribute("aria-describedby", "otp-hint");
  useRecovery.addEventListener("click", () => {
    // Recovery codes have letters: a digits-only keyboard could not type them.
    otp.setAttribute("inputmode", "text");
    otp.removeAttribute("pattern");
    otp.setAttribute("maxlength", "20");
    otpField.querySelector("#otp-label").textContent = "Recovery code";
    otpField.querySelector("#otp-hint").textContent = "One of the codes you kept when you set up two-step sign-in; each works once.";
    useRecovery.hidden = true;
    otp.focus();
  });
  const form = h(
    "form",
    { class: again ? "signin again" : "panel signin", novalidate: true, "aria-labelledby": again ? null : "signin-title" },
    again ? null : h("h1", { id: "signin-title" }, "Sign in to Bleep"),
    again ? null : h("p", { class: "lead" }, "Each phone signs in on its own; signing out here signs out only this phone."),
    h("label", { for: "username" }, "Username"),
    h("input", { id: "username", name: "username", autocomplete: "username", autocapitalize: "none", spellcheck: false, required: true, value: username || "", readOnly: again }),
    h("label", { for: "password" }, "Password"),
    h("input", { id: "password", name: "password", type: "password", autocomplete: "current-password", required: true }),
    again ? null : h("label", { for: "device-name" }, "This device"),
    again ? null : h("p", { class: "hint", id: "device-hint" }, "So you can tell your phones apart and sign out a lost one."),
    h("input", { id: "device-name", name: "device_name", value: deviceName || guessDeviceName(), "aria-describedby": again ? null : "device-hint", required: true, type: again ? "hidden" : "text" }),
    otpField,
    problem,
    h("button", { type: "submit", class: "wide" }, again ? "Sign in again" : "Sign in"),
  );
  if (again) form.setAttribute("aria-label", "Sign in again");
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    // This tap (or Enter) is what lets the page sound an emergency later (emergency.js).
    armSound();
    const button = form.querySelector("button[type=submit]");
    problem.textContent = "";
    button.disabled = true;
    try {
      await signIn({
        username: form.username.value.trim(),
        password: form.password.value,
        deviceName: form.device_name.value.trim() || guessDeviceName(),
        otp: otpField.hidden ? null : otp.value.trim(),
      });
      await done();
    } catch (error) {
      answered(error);
    } finally {
      button.disabled = false;
    }
  });
  function answered(error) {
    const code = error instanceof ApiError ? error.code : null;
    if (code === "mfa_enrolment_required") {
      if (onEnrol) {
        onEnrol(error.body.enrolment_token);
      } else {
        problem.textContent = "Your role now needs two-step sign-in: sign out, then sign in to set it up.";
      }
      return;
    }
    if (code === "mfa_required" || code === "mfa_invalid" || code === "mfa_throttled") {
      const asking = otpField.hidden;
      otpField.hidden = false;
      problem.textContent = code === "mfa_required" && asking ? "Enter the code from your authenticator app." : codeProblem(error);
      otp.value = "";
      otp.focus();
      return;
    }
    problem.textContent = code === "invalid_credentials" ? "Unknown username or wrong password." : `Could not sign in: ${error.message}`;
    form.password.focus();
  }

  return form;
}
