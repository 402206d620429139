// The emergency screen: full-screen red, loud, and focused on "coming"; for switchboard,
// focused on taking it on while a clinician is found.

import { api } from "./api.js";
import { emergenciesForMe, putBleep, takesOnInstead } from "./store.js";
import { announce, h, replace, target, where } from "./ui.js";

const VIBRATION = [700, 250, 700, 250, 700, 250, 700];
const TONE_EVERY_MS = 1600;

const dismissed = new Set();
let shown = null;
let toneTimer = null;
let audio = null;

// Browsers only let a page make sound after a tap: prepare the sound on the first one.
function unlockAudio() {
  if (audio) return;
  const Context = window.AudioContext || window.webkitAudioContext;
  if (!Context) return;
  audio = new Context();
}
window.addEventListener("pointerdown", unlockAudio, { once: true });
window.addEventListener("keydown", unlockAudio, { once: true });

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
  replace(
    screen,
    h("h1", { id: "emergency-title" }, "EMERGENCY"),
    h("p", { class: "what" }, target(bleep)),
    h("p", { class: "where" }, where(bleep) || "No location given"),
    h("p", { class: "message", id: "emergency-message" }, bleep.message),
    bleep.callback_extension ? h("p", { class: "where" }, `Call back on ${bleep.callback_extension}`) : null,
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
  for (const part of ["view", "tabs", "banner"]) document.getElementById(part).inert = true;
  actions[0].focus();
  announce(`Emergency bleep: ${target(bleep)}, ${where(bleep)}`, true);
  alarm(true);
}

function clinicianActions(bleep) {
  const acknowledge = h(
    "button",
    { type: "button", class: "acknowledge", onclick: () => acknowledgeNow(bleep.id, acknowledge) },
    "Acknowledge: I'm coming",
  );
  return [acknowledge];
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
  screen.hidden = true;
  replace(screen);
  for (const part of ["view", "tabs", "banner"]) document.getElementById(part).inert = false;
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
