// The emergency screen: full-screen red, loud, and focused on "coming"; for switchboard,
// focused on taking it on while a clinician is found.

import { api } from "./api.js";
import { quickAnswers } from "./answers.js";
import { emergenciesForMe, putBleep, takesOnInstead } from "./store.js";
import { announce, callbackLink, duration, h, replace, target, where, words } from "./ui.js";

const VIBRATION = [700, 250, 700, 250, 700, 250, 700];
const TONE_EVERY_MS = 1600;

const dismissed = new Set();
let shown = null;
let toneTimer = null;
let waitingTimer = null;
let audio = null;

// Browsers let a page make sound only after the person has tapped or typed in it. Chrome's
// autoplay policy: an AudioContext made before that is "suspended", and resume() works once
// the page has had a user activation. The HTML standard counts a key press (not Escape), a
// mouse button going down, and a finger lifting (pointerup, not pointerdown; a swipe that
// scrolls may not count at all). Firefox blocks web audio the same way by default
// (media.autoplay.block-webaudio) until a click or key press. Safari on iOS wants a touch
// too, and its ring/silent switch mutes web audio; where the browser offers the draft
// AudioSession API (navigator.audioSession, which Safari has) the page asks to be a
// "playback" session, meant to sound with the switch on silent (not checked on a device
// here). So the sound is armed by the Sign in tap itself, and after a reload with a saved
// sign-in by every tap or key until it runs; while it cannot play, the header (and the
// emergency screen) says "Sound off" plainly, with a button that turns it on.
export function armSound() {
  const Context = window.AudioContext || window.webkitAudioContext;
  if (!Context) return drawSound();
  if (navigator.audioSession) navigator.audioSession.type = "playback";
  if (!audio || audio.state === "closed") {
    audio = new Context();
    // A phone call, another app or the browser may stop it later: say so when it does.
    audio.addEventListener("statechange", drawSound);
  }
  audio.resume().then(drawSound, drawSound);
  drawSound();
}

export function soundOn() {
  return Boolean(audio && audio.state === "running");
}

// The header's "Sound off" button, shown while an emergency could not be heard.
export function drawSound() {
  const signedOut = document.getElementById("sign-out").hidden;
  for (const button of document.querySelectorAll("button.sound")) {
    button.hidden = soundOn() || (button.id === "sound" && signedOut);
  }
  document.body.dataset.sound = soundOn() ? "on" : "off";
}

function soundButton() {
  return h("button", { type: "button", class: "sound", hidden: soundOn(), onclick: armSound },
    "Sound off: tap to turn on");
}

// Not once: a swipe or an Escape lets no sound start, so the next tap or key tries again.
function armUntilOn(event) {
  if (event.type === "keydown" && event.key === "Escape") return;
  if (!soundOn()) armSound();
}
for (const type of ["pointerdown", "pointerup", "keydown"]) window.addEventListener(type, armUntilOn);

function tone() {
  if (!audio || audio.state === "closed") return;
  audio.resume().catch(() => {});
  const now = audio.currentTime;
  for (const [offset, pitch] of [[0, 988], [0.35, 740], [0.7, 988], [1.05, 740]]) {
    const oscillator = audio.createOscillator();
    const gain = audio.createGain();
    oscillator.type = "square";
    oscillator.frequency.value = pitch;
    gain.gain.setValueAtTime(0.25, now + offset);
    gain.gain.setValueAtTime(0, now + offset + 0.3);
    oscillator.connect(gain).connect(audio.destination);
    oscillator.start(now + offset);
    oscillator.stop(now + offset + 0.32);
  }
}

function alarm(on) {
  window.clearInterval(toneTimer);
  toneTimer = null;
  if (navigator.vibrate) navigator.vibrate(on ? VIBRATION : 0);
  if (!on) return;
  tone();
  toneTimer = window.setInterval(() => {
    tone();
    if (navigator.vibrate) navigator.vibrate(VIBRATION);
  }, TONE_EVERY_MS);
}

// Show the screen for the newest emergency waiting for me, or take it down.
export function raiseEmergencies(change = {}) {
  if (change.event && change.event.type === "bleep.renotified") dismissed.delete(change.event.bleep_id);
  const waiting = emergenciesForMe().filter((bleep) => !dismissed.has(bleep.id));
  const next = waiting[0];
  if (!next) return close();
  if (shown === next.id) return;
  open(next);
}

function open(bleep) {
  const screen = document.getElementById("emergency");
  const previous = document.activeElement;
  shown = bleep.id;
  const actions = takesOnInstead(bleep) ? switchboardActions(bleep) : clinicianActions(bleep);
  const waited = h("span", { id: "emergency-waiting" });
  const tickWaiting = () => {
    waited.textContent = duration((Date.now() - new Date(bleep.created_at).getTime()) / 1000);
  };
  tickWaiting();
  window.clearInterval(waitingTimer);
  waitingTimer = window.setInterval(tickWaiting, 1000);
  replace(
    screen,
    h("h1", { id: "emergency-title" }, "EMERGENCY"),
    h("p", { class: "what" }, target(bleep)),
    h("p", { class: "message", id: "emergency-message" }, bleep.message),
    h("dl", { class: "facts" },
      h("dt", {}, "Where"), h("dd", { id: "emergency-where" }, where(bleep) || "Not given"),
      h("dt", {}, "From"), h("dd", { id: "emergency-from" }, sender(bleep.sender)),
      h("dt", {}, "Call back"), h("dd", {}, bleep.callback_extension ? callbackLink(bleep.callback_extension) : "Not given"),
      h("dt", {}, "Waiting"), h("dd", {}, waited)),
    soundButton(),
    h("p", { class: "problem", id: "emergency-error", role: "status" }),
    actions,
    h("button", { type: "button", class: "secondary", onclick: () => openBleep(bleep.id) }, "Open the bleep"),
  );
  screen.setAttribute("role", "alertdialog");
  screen.setAttribute("aria-modal", "true");
  screen.setAttribute("aria-labelledby", "emergency-title");
  screen.setAttribute("aria-describedby", "emergency-message");
  screen.hidden = false;
  screen.dataset.bleepId = String(bleep.id);
  screen.returnFocus = previous;
  // Everything else is out of reach until it is answered: a tap, Tab or a screen reader.
  for (const part of document.body.children) {
    if (part !== screen && !part.matches("[aria-live]")) part.inert = true;
  }
  actions[0].focus();
  announce(`Emergency bleep: ${target(bleep)}, ${where(bleep)}`, true);
  alarm(true);
}

// Who is calling, with their job when the server named it.
function sender(person) {
  return person.job ? `${person.name}, ${words("jobs", person.job)}` : person.name;
}

function clinicianActions(bleep) {
  const acknowledge = h(
    "button",
    { type: "button", class: "acknowledge", onclick: () => acknowledgeNow(bleep.id, acknowledge) },
    "Acknowledge: I'm coming",
  );
  const later = quickAnswers(bleep, {
    idPrefix: "emergency",
    label: "Or coming in:",
    etas: [5, 10, 15],
    done: () => {
      dismissed.add(bleep.id);
      close();
      location.hash = `#/bleeps/${bleep.id}`;
    },
  });
  return [acknowledge, later];
}

// Switchboard is not the clinician the sender needs: it takes the bleep on, escalates it or
// sends it elsewhere, and escalation to clinicians goes on until one of them acknowledges.
function switchboardActions(bleep) {
  const takeOn = h(
    "button",
    { type: "button", class: "acknowledge", onclick: () => takeOnNow(bleep.id, takeOn) },
    "Take on: I'm phoning the team",
  );
  const escalate = h(
    "button",
    { type: "button", class: "secondary", onclick: () => escalateNow(bleep.id, escalate) },
    "Escalate now",
  );
  const redirect = h("button", { type: "button", class: "secondary", onclick: () => openBleep(bleep.id) }, "Redirect");
  return [
    takeOn,
    h("p", { class: "note" }, "A clinician must acknowledge this. Take it on while you find one."),
    escalate,
    redirect,
  ];
}

function close() {
  if (shown === null) return;
  const screen = document.getElementById("emergency");
  shown = null;
  alarm(false);
  window.clearInterval(waitingTimer);
  screen.hidden = true;
  replace(screen);
  for (const part of document.body.children) part.inert = false;
  if (screen.returnFocus && screen.returnFocus.isConnected) screen.returnFocus.focus();
}

async function acknowledgeNow(bleepId, button) {
  button.disabled = true;
  try {
    await api("POST", `/bleeps/${bleepId}/acknowledge`, { comment: "coming" });
    dismissed.add(bleepId);
    close();
    location.hash = `#/bleeps/${bleepId}`;
  } catch (error) {
    button.disabled = false;
    document.getElementById("emergency-error").textContent = `Not acknowledged: ${error.message}`;
  }
}

async function takeOnNow(bleepId, button) {
  button.disabled = true;
  try {
    // No longer waiting for this operator, so the screen does not come back for it.
    putBleep(await api("POST", `/bleeps/${bleepId}/handle`, { note: "phoning the team" }));
    close();
    location.hash = `#/bleeps/${bleepId}`;
  } catch (error) {
    button.disabled = false;
    document.getElementById("emergency-error").textContent = `Not taken on: ${error.message}`;
  }
}

async function escalateNow(bleepId, button) {
  button.disabled = true;
  try {
    putBleep(await api("POST", `/bleeps/${bleepId}/escalate`, {}));
    openBleep(bleepId);
  } catch (error) {
    button.disabled = false;
    document.getElementById("emergency-error").textContent = `Not escalated: ${error.message}`;
  }
}

function openBleep(bleepId) {
  dismissed.add(bleepId);
  close();
  location.hash = `#/bleeps/${bleepId}`;
}

// Escape never takes the screen down: it says so, and goes back to the first answer.
function refuseEscape(screen) {
  document.getElementById("emergency-error").textContent = "Answer it to close this screen.";
  const first = screen.querySelector("button.acknowledge");
  if (first) first.focus();
}

// Tab and Shift+Tab go round the emergency screen's own controls, never behind it.
document.addEventListener("keydown", (event) => {
  if (shown === null) return;
  const screen = document.getElementById("emergency");
  if (event.key === "Escape") {
    event.preventDefault();
    return refuseEscape(screen);
  }
  if (event.key !== "Tab") return;
  const controls = [...screen.querySelectorAll("button, a[href], input, select, textarea, summary")]
    .filter((control) => !control.disabled && control.getClientRects().length > 0);
  if (!controls.length) return;
  const first = controls[0];
  const last = controls[controls.length - 1];
  const inside = screen.contains(document.activeElement);
  if (event.shiftKey && (document.activeElement === first || !inside)) {
    event.preventDefault();
    last.focus();
  } else if (!event.shiftKey && (document.activeElement === last || !inside)) {
    event.preventDefault();
    first.focus();
  }
});
