// The app: sign-in, the sections each person needs, the connection banner, and the
// emergency screen.

import { api, finishSso, Offline, savedUser, saveUser, signOut, takeReplacedDevice, token } from "./api.js";
import { armSound, drawSound, raiseEmergencies } from "./emergency.js";
import { connection, start as startLive, stop as stopLive } from "./live.js";
import { registerWorker } from "./push.js";
import { loadFirstPages } from "./lists.js";
import { checkReachable, reachMayHaveChanged } from "./reachable.js";
import { checkRenewal, finishSsoRenewal, startRenewal, stopRenewal } from "./renewal.js";
import { store, subscribe } from "./store.js";
import { announce, duration, h, learnWords, replace } from "./ui.js";
import { renderBleep } from "./views/bleep.js";
import { renderBoard } from "./views/board.js";
import { renderFigures } from "./views/figures.js";
import { renderInbox } from "./views/inbox.js";
import { renderAccount } from "./views/mfa.js";
import { renderSend } from "./views/send.js";
import { renderSent } from "./views/sent.js";
import { renderSignIn } from "./views/signin.js";

const view = document.getElementById("view");
const SECTIONS = [
  { route: "send", label: "Send", render: renderSend },
  { route: "inbox", label: "Inbox", render: renderInbox },
  { route: "sent", label: "Sent", render: renderSent },
  { route: "board", label: "Board", render: renderBoard, only: ["switchboard"] },
  { route: "figures", label: "Figures", render: renderFigures, only: ["auditor", "rota_manager"] },
];
const HOME = { nurse: "send", switchboard: "board" };

let teardown = null;
let bannerTimer = null;

function route() {
  const match = location.hash.match(/^#\/(\w+)(?:\/(\d+))?/);
  return match ? { name: match[1], id: match[2] ? Number(match[2]) : null } : { name: null, id: null };
}

function sections() {
  return SECTIONS.filter((section) => !section.only || (store.me && section.only.includes(store.me.job)));
}

function show() {
  if (!token()) return showSignIn();
  const { name, id } = route();
  if (teardown) teardown();
  teardown = null;
  if (name === "bleeps" && id) {
    teardown = renderBleep(view, id);
  } else if (name === "account") {
    teardown = renderAccount(view);
  } else {
    const section = sections().find((s) => s.route === name);
    if (!section) {
      location.replace(`#/${HOME[store.me && store.me.job] || "inbox"}`);
      return;
    }
    teardown = section.render(view);
  }
  drawTabs();
  checkRenewal();
  window.scrollTo(0, 0);
  view.focus({ preventScroll: true });
}

function drawTabs() {
  const tabs = document.getElementById("tabs");
  const current = route().name;
  tabs.hidden = false;
  replace(
    tabs,
    sections().map((section) => {
      const link = h(
        "a",
        { href: `#/${section.route}`, "aria-current": section.route === current ? "page" : null },
        section.label,
      );
      if (section.route === "inbox") link.append(h("span", { class: "count", id: "inbox-count" }));
      return link;
    }),
  );
  drawCount();
}

function drawCount() {
  const badge = document.getElementById("inbox-count");
  if (!badge) return;
  const count = inboxCount();
  badge.hidden = count === 0;
  badge.textContent = String(count);
  badge.setAttribute("aria-label", `${count} open`);
}

function inboxCount() {
  let count = 0;
  for (const bleep of store.bleeps.values()) {
    const mine = bleep.deliveries.find((d) => store.me && d.recipient.id === store.me.id);
    if (bleep.status === "open" && mine && mine.status !== "cancelled") count += 1;
  }
  return count;
}

function showSignIn() {
  if (teardown) teardown();
  teardown = null;
  stopRenewal();
  document.getElementById("tabs").hidden = true;
  document.getElementById("sign-out").hidden = true;
  drawSound();
  document.getElementById("who").textContent = "";
  document.getElementById("connection").hidden = true;
  replace(document.getElementById("banner")).hidden = true;
  replace(document.getElementById("reach-warning")).hidden = true;
  document.body.classList.remove("stale");
  renderSignIn(view, signedIn);
}

async function signedIn() {
  const user = savedUser();
  store.me = user;
  await begin();
  location.hash = `#/${HOME[user.job] || "inbox"}`;
  show();
}

async function begin() {
  try {
    store.me = await api("GET", "/me");
    saveUser(store.me);
  } catch (error) {
    if (!(error instanceof Offline)) throw error;
    store.me = savedUser(); // no signal: open with what this device knew
  }
  learnWords(store.me);
  document.getElementById("who").textContent = store.me ? store.me.name : "";
  document.getElementById("sign-out").hidden = false;
  drawSound();
  document.getElementById("connection").hidden = false;
  await loadLists();
  startLive();
  startRenewal();
  checkReachable();
  registerWorker().catch(() => {});
}

async function loadLists() {
  try {
    await loadFirstPages();
  } catch {
    // Offline: the socket's snapshot fills the lists when it connects.
  }
}

function drawConnection(detail) {
  const badge = document.getElementById("connection");
  const banner = document.getElementById("banner");
  badge.dataset.state = detail.state;
  badge.textContent = { live: "Live", connecting: "Connecting…", offline: "Offline" }[detail.state];
  const offline = detail.state === "offline";
  document.body.classList.toggle("stale", offline);
  window.clearInterval(bannerTimer);
  if (!offline) {
    if (!banner.hidden) announce("Connected again: the screen is up to date.");
    banner.hidden = true;
    banner.removeAttribute("role");
    replace(banner);
    return;
  }
  const wasHidden = banner.hidden;
  banner.setAttribute("role", "alert");
  banner.hidden = false;
  const drawBanner = () => {
    const seconds = detail.retryAt ? Math.max(0, (detail.retryAt - Date.now()) / 1000) : 0;
    const since = connection.since ? ` Last up to date at ${connection.since.toLocaleTimeString("en-GB")}.` : "";
    const text = `Offline: not connected to Bleep. New bleeps and answers will not show until it reconnects.${since}`;
    if (wasHidden || !banner.firstChild) {
      replace(
        banner,
        h("p", {}, text),
        h("p", { class: "small", id: "retry" }, ""),
        h("button", { type: "button", onclick: () => window.dispatchEvent(new Event("online")) }, "Try again now"),
      );
    }
    banner.querySelector("#retry").textContent = seconds ? `Trying again in ${duration(seconds)}.` : "Trying again…";
  };
  drawBanner();
  bannerTimer = window.setInterval(drawBanner, 1000);
}

window.addEventListener("bleep:connection", (event) => drawConnection(event.detail));
window.addEventListener("hashchange", show);
window.addEventListener("bleep:signed-out", () => {
  stopLive();
  store.bleeps.clear();
  store.me = null;
  localStorage.removeItem("bleep.token");
  showSignIn();
});

subscribe((change) => {
  if (change.note) announce(change.note, Boolean(change.event && change.event.type === "bleep.created"));
  drawCount();
  raiseEmergencies(change);
  checkRenewal();
  if (reachMayHaveChanged(change)) checkReachable();
});

document.getElementById("sound").addEventListener("click", armSound);

document.getElementById("sign-out").addEventListener("click", async () => {
  stopLive();
  let viaSso = false;
  try {
    viaSso = await signOut();
  } catch {
    // Signed out on this device even if the server could not be told; it forgets the token.
  }
  store.bleeps.clear();
  store.me = null;
  location.hash = "";
  // Signed in at the organisation's identity provider: end that session too, then back here.
  if (viaSso) return location.assign("/auth/sso/logout");
  showSignIn();
});

if ("serviceWorker" in navigator) {
  // A tapped notification asks an open window to show its bleep.
  navigator.serviceWorker.addEventListener("message", (event) => {
    if (event.data && event.data.type === "open") location.hash = new URL(event.data.url, location.href).hash;
  });
}

async function boot() {
  const handoff = location.hash.match(/^#\/signed-in\/([\w-]+)$/);
  if (handoff) {
    try {
      await finishSso(handoff[1]);
      await signedIn();
      return finishSsoRenewal();
    } catch (error) {
      if (takeReplacedDevice() && token()) {
        // Signing in again failed: the device's own sign-in still works until it ends.
        await begin();
        show();
        announce(`Could not sign in again: ${error.message}`);
        return;
      }
      showSignIn();
      const problem = document.getElementById("signin-problem");
      if (problem) problem.textContent = `Could not sign in: ${error.message}`;
      return;
    }
  }
  if (!token()) return showSignIn();
  await begin();
  show();
}

boot();
