// Sign in this device. The token stays on the device until it signs out.

import { ApiError, guessDeviceName, signIn } from "../api.js";
import { h, replace } from "../ui.js";

export function renderSignIn(view, done) {
  const problem = h("p", { class: "error", id: "signin-problem", role: "alert" });
  const form = h(
    "form",
    { class: "panel signin", novalidate: true, "aria-labelledby": "signin-title" },
    h("h1", { id: "signin-title" }, "Sign in to Bleep"),
    h("p", { class: "lead" }, "Each phone signs in on its own; signing out here signs out only this phone."),
    h("label", { for: "username" }, "Username"),
    h("input", { id: "username", name: "username", autocomplete: "username", autocapitalize: "none", spellcheck: false, required: true }),
    h("label", { for: "password" }, "Password"),
    h("input", { id: "password", name: "password", type: "password", autocomplete: "current-password", required: true }),
    h("label", { for: "device-name" }, "This device"),
    h("p", { class: "hint", id: "device-hint" }, "So you can tell your phones apart and sign out a lost one."),
    h("input", { id: "device-name", name: "device_name", value: guessDeviceName(), "aria-describedby": "device-hint", required: true }),
    problem,
    h("button", { type: "submit", class: "wide" }, "Sign in"),
  );
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
  replace(view, form);
  form.username.focus();
}
