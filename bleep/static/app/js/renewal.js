// Ask the person to sign in again before this device's token ends (docs/protocol.md,
// `expires_at`), so the phone never stops receiving bleeps in the middle of a shift.
//
// When to ask: once the token would end before the later of 12 hours from now and the end
// of the last of the person's shifts in the next fortnight (from the rota). Not only the
// next shift: a token that ends between two shifts leaves the phone silent when the next
// one starts, with nobody told. With no shift known, 12 hours covers the longest shift.
// Tokens last 30 days from their last use and 90 from sign-in, so this asks at most once a
// quarter, in its last fortnight. The notice never covers a bleep's screen or an
// emergency: it waits until the person leaves them.

import { api, guessDeviceName, saveUser, signInOptions, startSso, takeReplacedDevice, viaSso } from "./api.js";
import { reauthenticate } from "./live.js";
import { moveSubscriptionHere } from "./push.js";
import { store } from "./store.js";
import { announce, h, learnWords, replace } from "./ui.js";
import { signInForm } from "./views/signin.js";

const HOUR_MS = 60 * 60 * 1000;
const SOON_MS = 12 * HOUR_MS;
const SHIFTS_AHEAD_MS = 14 * 24 * HOUR_MS;
const CHECK_EVERY_MS = 60 * 1000;
const SHIFTS_EVERY_MS = HOUR_MS;

let checkTimer = null;
let shiftsTimer = null;
let lastShiftEnd = null; // Date, or null when no shift is known
let form = null; // the open sign-in-again form, kept while a bleep's screen hides it

export function startRenewal() {
  stopRenewal();
  loadShifts();
  checkTimer = window.setInterval(checkRenewal, CHECK_EVERY_MS);
  shiftsTimer = window.setInterval(loadShifts, SHIFTS_EVERY_MS);
  checkRenewal();
}

export function stopRenewal() {
  window.clearInterval(checkTimer);
  window.clearInterval(shiftsTimer);
  checkTimer = shiftsTimer = null;
  lastShiftEnd = null;
  form = null;
  const notice = document.getElementById("renew");
  replace(notice).hidden = true;
}

// Whether a token ending at `expiresAt` should be renewed now.
export function renewNow(expiresAt, now, shiftEnd) {
  const askBy = Math.max(now.getTime() + SOON_MS, shiftEnd ? shiftEnd.getTime() : 0);
  return expiresAt.getTime() <= askBy;
}

async function loadShifts() {
  if (!store.me) return;
  const now = new Date();
  const query = new URLSearchParams({
    person: String(store.me.id),
    from: now.toISOString(),
    to: new Date(now.getTime() + SHIFTS_AHEAD_MS).toISOString(),
  });
  try {
    const answer = await api("GET", `/rota/shifts?${query}`);
    const shifts = Array.isArray(answer) ? answer : answer.results || [];
    const ends = shifts.map((shift) => new Date(shift.end)).filter((end) => end > now);
    lastShiftEnd = ends.length ? new Date(Math.max(...ends)) : null;
  } catch {
    // Offline or refused: the 12-hour rule alone still asks in time for most shifts.
  }
  checkRenewal();
}

export function checkRenewal() {
  const notice = document.getElementById("renew");
  const device = store.me && store.me.device;
  if (!device || !device.expires_at) return;
  const expiresAt = new Date(device.expires_at);
  if (!renewNow(expiresAt, new Date(), lastShiftEnd)) {
    form = null;
    replace(notice).hidden = true;
    return;
  }
  if (busyWithABleep()) {
    notice.hidden = true;
    return;
  }
  draw(notice, expiresAt, device);
}

function busyWithABleep() {
  return /^#\/bleeps\/\d+/.test(location.hash) || !document.getElementById("emergency").hidden;
}

function draw(notice, expiresAt, device) {
  const text = `Your sign-in ends at ${when(expiresAt)}. Sign in again now so bleeps keep reaching you.`;
  const status = notice.querySelector("#renew-text");
  if (status) {
    if (status.textContent !== text) status.textContent = text;
  } else {
    replace(
      notice,
      h("p", { id: "renew-text", role: "status" }, text),
      h("button", { type: "button", id: "renew-open", onclick: () => openForm(notice, device) }, "Sign in again"),
    );
    if (form) openForm(notice, device);
  }
  notice.hidden = false;
}

function openForm(notice, device) {
  if (viaSso()) return offerSsoAgain(notice, device);
  form =
    form ||
    signInForm({
      username: store.me.username,
      deviceName: device.name,
      done: () => renewed(device.id),
    });
  notice.querySelector("#renew-open").hidden = true;
  if (!form.isConnected) notice.append(form);
  form.password.focus();
}

// Signed in at the organisation's identity provider: sign in there again. The page goes
// there and back; the old device is ended when the new one works (`finishSsoRenewal`).
async function offerSsoAgain(notice, device) {
  notice.querySelector("#renew-open").hidden = true;
  let options;
  try {
    options = await signInOptions();
  } catch {
    notice.querySelector("#renew-open").hidden = false;
    return;
  }
  const button = h("button", { type: "button", class: "wide", id: "renew-sso" }, `Sign in again with ${options.provider_name}`);
  button.addEventListener("click", () => startSso(options.start_url, device.name || guessDeviceName(), { replacing: device.id }));
  notice.append(button);
  button.focus();
}

// After signing in again at the identity provider: move this phone's push subscription to
// the new device, then end the one it replaces.
export async function finishSsoRenewal() {
  const oldDeviceId = takeReplacedDevice();
  if (!oldDeviceId) return;
  await moveSubscriptionHere().catch(() => {});
  await api("DELETE", `/auth/devices/${oldDeviceId}`).catch(() => {});
  announce("Signed in again: bleeps keep reaching this phone.");
}

async function renewed(oldDeviceId) {
  // The socket moves to the new token first, then pushes, and only then is the old device
  // ended: at no moment is this phone without a way to hear a bleep.
  reauthenticate();
  await moveSubscriptionHere().catch(() => {});
  await api("DELETE", `/auth/devices/${oldDeviceId}`).catch(() => {});
  try {
    store.me = await api("GET", "/me");
    saveUser(store.me);
    learnWords(store.me);
  } catch {
    // The authenticated frame brings the new device's expiry as well.
  }
  form = null;
  replace(document.getElementById("renew")).hidden = true;
  announce("Signed in again: bleeps keep reaching this phone.");
  checkRenewal();
}

// "14:00 today", "14:00 tomorrow" or "14:00 on Friday 12 December", on this phone's clock.
function when(instant) {
  const time = instant.toLocaleTimeString("en-GB", { hour: "2-digit", minute: "2-digit" });
  const day = (date) => new Date(date.getFullYear(), date.getMonth(), date.getDate()).getTime();
  const days = Math.round((day(instant) - day(new Date())) / (24 * HOUR_MS));
  if (days <= 0) return `${time} today`;
  if (days === 1) return `${time} tomorrow`;
  const date = instant.toLocaleDateString("en-GB", { weekday: "long", day: "numeric", month: "long" });
  return `${time} on ${date}`;
}
