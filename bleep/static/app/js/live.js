// The device socket (docs/protocol.md): authenticate, catch up from the last event number,
// stay live, and reconnect by itself with backoff when the network or server drops.

import { api, token } from "./api.js";
import { applyEvent, changed, myDelivery, putBleep, store } from "./store.js";

const BACKOFF_FIRST_MS = 1000;
const BACKOFF_CAP_MS = 30000;
// The server sends anything stored but not yet sent before answering a ping, so pinging
// this often bounds how stale a quiet screen can be; no pong in time means a dead socket.
const PING_EVERY_MS = 25000;
const PONG_WITHIN_MS = 10000;
const CLOSE_SIGNED_OUT = 4401;
// The server could not sign the socket in because its database is down: reconnect with the
// backoff, but not sooner than REST's Retry-After (2 s) for the same outage.
const CLOSE_TRY_AGAIN_LATER = 4503;
const TRY_AGAIN_LATER_MS = 2000;

let socket = null;
let lastSeq = 0;
// Caught up once: from then on resume from lastSeq, even from 0 (docs/protocol.md). A
// snapshot holds only open bleeps, so a phone caught up while its stream was empty would
// never hear that a bleep sent meanwhile had been acknowledged.
let resumable = false;
let attempt = 0;
let running = false;
let retryTimer = null;
let pingTimer = null;
let pongTimer = null;
const confirmed = new Set();

export const connection = { state: "connecting", retryAt: null, since: null };

function setState(state, extra = {}) {
  Object.assign(connection, { state, retryAt: null }, extra);
  if (state === "live") connection.since = new Date();
  window.dispatchEvent(new CustomEvent("bleep:connection", { detail: { ...connection } }));
}

export function start() {
  if (running) return;
  running = true;
  lastSeq = 0;
  resumable = false;
  window.addEventListener("online", reconnectNow);
  window.addEventListener("offline", dropped);
  document.addEventListener("visibilitychange", onVisible);
  connect();
}

export function stop() {
  running = false;
  window.removeEventListener("online", reconnectNow);
  window.removeEventListener("offline", dropped);
  document.removeEventListener("visibilitychange", onVisible);
  clearTimers();
  if (socket) socket.close(1000);
  socket = null;
  confirmed.clear();
}

// Sign the socket in again with the token now kept (a new device of the same person),
// resuming from the last event number: the stream is the person's, so nothing is missed.
export function reauthenticate() {
  if (!running) return;
  attempt = 0;
  clearTimers();
  if (socket) closeQuietly(socket);
  socket = null;
  connect();
}

function onVisible() {
  if (document.visibilityState === "visible" && connection.state !== "live") reconnectNow();
}

function reconnectNow() {
  if (!running) return;
  attempt = 0;
  if (socket && socket.readyState <= WebSocket.OPEN && connection.state === "connecting") return;
  clearTimers();
  if (socket) closeQuietly(socket);
  connect();
}

function dropped() {
  // The browser says the network is gone: say so now, rather than after a ping times out.
  if (socket) closeQuietly(socket);
  socket = null;
  scheduleReconnect();
}

function closeQuietly(old) {
  old.onclose = old.onmessage = old.onerror = null;
  try { old.close(); } catch { /* already closed */ }
}

function connect() {
  if (!running || !token()) return;
  setState(connection.state === "offline" ? "offline" : "connecting", { retryAt: null });
  const url = `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/ws`;
  const current = new WebSocket(url);
  socket = current;
  current.onopen = () => {
    const hello = { type: "auth", token: token(), last_seq: lastSeq };
    current.send(JSON.stringify(resumable ? { ...hello, resume: true } : hello));
  };
  current.onmessage = (message) => receive(JSON.parse(message.data));
  current.onclose = (closing) => {
    if (socket !== current) return;
    socket = null;
    clearTimers();
    if (closing.code === CLOSE_SIGNED_OUT) {
      window.dispatchEvent(new CustomEvent("bleep:signed-out"));
      return;
    }
    scheduleReconnect(closing.code === CLOSE_TRY_AGAIN_LATER ? TRY_AGAIN_LATER_MS : 0);
  };
}

function scheduleReconnect(atLeastMs = 0) {
  if (!running) return;
  clearTimers();
  // Exponential backoff with jitter, so a ward's phones do not all return at once.
  const ceiling = Math.min(BACKOFF_CAP_MS, BACKOFF_FIRST_MS * 2 ** attempt);
  const wait = Math.max(atLeastMs, ceiling / 2 + Math.random() * (ceiling / 2));
  attempt += 1;
  setState("offline", { retryAt: Date.now() + wait });
  retryTimer = window.setTimeout(connect, wait);
}

function clearTimers() {
  window.clearTimeout(retryTimer);
  window.clearInterval(pingTimer);
  window.clearTimeout(pongTimer);
  retryTimer = pingTimer = pongTimer = null;
}

function receive(frame) {
  switch (frame.type) {
    case "authenticated":
      // Keep what /api/me said (the job decides the sections and the answers offered).
      store.me = { ...store.me, ...frame.user, device: frame.device };
      changed({ device: frame.device });
      return;
    case "snapshot":
      for (const bleep of frame.bleeps) putBleep(bleep);
      lastSeq = frame.seq;
      confirmReceipts(frame.bleeps);
      changed({ snapshot: true });
      return;
    case "caught_up":
      lastSeq = frame.seq;
      resumable = true;
      attempt = 0;
      setState("live");
      startPinging();
      changed({ caughtUp: true });
      return;
    case "pong":
      window.clearTimeout(pongTimer);
      return;
    case "ok":
      return;
    case "error":
      // The server answered, so the socket is alive even if its database is not: keep it
      // rather than add a reconnect to the outage; the next ping catches up.
      if (frame.code === "database_unavailable") window.clearTimeout(pongTimer);
      return;
    default:
      if (typeof frame.seq === "number") receiveEvent(frame);
  }
}

function receiveEvent(event) {
  if (event.seq <= lastSeq) return;
  const note = applyEvent(event);
  lastSeq = event.seq;
  if (event.bleep) confirmReceipts([event.bleep]);
  changed({ event, note });
}

function startPinging() {
  window.clearInterval(pingTimer);
  pingTimer = window.setInterval(() => {
    if (!send({ type: "ping" })) return;
    window.clearTimeout(pongTimer);
    pongTimer = window.setTimeout(() => {
      // No answer: the socket is dead though nobody closed it (a lost Wi-Fi, a proxy).
      if (socket) closeQuietly(socket);
      socket = null;
      scheduleReconnect();
    }, PONG_WITHIN_MS);
  }, PING_EVERY_MS);
}

export function send(frame) {
  if (!socket || socket.readyState !== WebSocket.OPEN || connection.state !== "live") return false;
  socket.send(JSON.stringify(frame));
  return true;
}

// Tell the sender the bleep reached this device, once per bleep: the protocol's receipt.
function confirmReceipts(bleeps) {
  for (const bleep of bleeps) {
    const stored = store.bleeps.get(bleep.id) || bleep;
    const delivery = myDelivery(stored);
    if (!delivery || delivery.status !== "sent" || stored.status !== "open" || confirmed.has(bleep.id)) continue;
    confirmed.add(bleep.id);
    const frame = { type: "delivered", bleep_id: bleep.id };
    if (!socket || socket.readyState !== WebSocket.OPEN) continue;
    socket.send(JSON.stringify(frame));
  }
}

// The person opened the bleep: the read receipt, over the socket or REST.
export async function markRead(bleepId) {
  if (send({ type: "read", bleep_id: bleepId })) return;
  await api("POST", `/bleeps/${bleepId}/read`).catch(() => {});
}
