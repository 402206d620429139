// Sign in this device. The token stays on the device until it signs out. The same form,
// with the person's name fixed, signs in again before the token ends (renewal.js).

import { ApiError, guessDeviceName, signIn } from "../api.js";
import { h, replace } from "../ui.js";

export function renderSignIn(view, done) {
  const form = signInForm({ done });
  replace(view, form);
  form.username.focus();
}

// The sign-in form. With `username`, it signs that person in again: the name is fixed and
// the new device keeps `deviceName`.
export function signInForm({ done, username = null, deviceName = null }) {
  const again = username !== null;
  const problem = h("p", { class: "error", id: "signin-problem", role: "alert" });
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
    problem,
    h("button", { type: "submit", class: "wide" }, again ? "Sign in again" : "Sign in"),
  );
  if (again) form.setAttribute("aria-label", "Sign in again");
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const button = form.querySelector("button[type=submit]");
    problem.textContent = "";
    button.disabled = true;
    try {
      await signIn({
        username: form.username.value.trim(),
        password: form.password.value,
        deviceName: form.device_name.value.trim() || guessDeviceName(),
      });
      await done();
    } catch (error) {
      problem.textContent =
        error instanceof ApiError && error.code === "invalid_credentials"
          ? "Unknown username or wrong password."
          : `Could not sign in: ${error.message}`;
      form.password.focus();
    } finally {
      button.disabled = false;
    }
  });
  return form;
}
