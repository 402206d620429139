// Bleep's service worker, served at /sw.js so it controls the whole app.
// A push only wakes the phone: it carries the priority and the role bleeped, never patient
// details, and the notification shows only that. The worker then tells the server the bleep
// reached this device (the delivered receipt), and a tap opens the bleep in the app.

const DATABASE = "bleep"; // the same database, store and key as js/keystore.js
const STORE = "device";
const KEY = "token";
const SHELL = "bleep-shell-v1";
const EMERGENCY_VIBRATION = [600, 200, 600, 200, 600, 200, 600];
const VIBRATION = [300, 150, 300];

self.addEventListener("install", () => self.skipWaiting());
self.addEventListener("activate", (event) => event.waitUntil(self.clients.claim()));

self.addEventListener("push", (event) => event.waitUntil(showPush(event)));

async function showPush(event) {
  let push = {};
  try {
    push = event.data ? event.data.json() : {};
  } catch {
    push = {};
  }
  const bleepId = Number(push.bleep_id);
  const known = Number.isInteger(bleepId) && bleepId > 0;
  const testId = push.kind === "test" && Number.isInteger(push.test_id) && push.test_id > 0 ? push.test_id : 0;
  // Only the lock-screen-safe title and body the server wrote; nothing else is added.
  await self.registration.showNotification(typeof push.title === "string" ? push.title : "Bleep", {
    body: typeof push.body === "string" ? push.body : "Open Bleep",
    tag: typeof push.tag === "string" ? push.tag : known ? `bleep-${bleepId}` : "bleep",
    renotify: true,
    requireInteraction: push.priority !== "routine",
    vibrate: push.priority === "emergency" ? EMERGENCY_VIBRATION : VIBRATION,
    icon: "/static/app/icon-192.png",
    badge: "/static/app/icon-192.png",
    data: { url: known ? `/#/bleeps/${bleepId}` : testId ? "/#/account" : "/" },
  });
  if (known) await confirmDelivered(`/api/bleeps/${bleepId}/delivered`);
  // A phone test is proved by the notification showing, as a bleep's delivery is.
  if (testId) await confirmDelivered(`/api/me/phone-tests/${testId}/confirm`);
}

async function confirmDelivered(path) {
  const token = await readToken();
  if (!token) return;
  try {
    await fetch(path, {
      method: "POST",
      headers: { Authorization: `Bearer ${token}`, Accept: "application/json" },
    });
  } catch {
    // Offline again: the app sends the receipt itself when it next connects.
  }
}

function readToken() {
  return new Promise((resolve) => {
    const request = indexedDB.open(DATABASE, 1);
    request.onupgradeneeded = () => request.result.createObjectStore(STORE);
    request.onerror = () => resolve(null);
    request.onsuccess = () => {
      const database = request.result;
      const read = database.transaction(STORE, "readonly").objectStore(STORE).get(KEY);
      read.onsuccess = () => { database.close(); resolve(read.result || null); };
      read.onerror = () => { database.close(); resolve(null); };
    };
  });
}

self.addEventListener("notificationclick", (event) => {
  event.notification.close();
  const url = (event.notification.data && event.notification.data.url) || "/";
  event.waitUntil(openBleep(url));
});

async function openBleep(url) {
  const windows = await self.clients.matchAll({ type: "window", includeUncontrolled: true });
  const open = windows.find((client) => new URL(client.url).origin === self.location.origin);
  if (open) {
    await open.focus();
    open.postMessage({ type: "open", url });
    return;
  }
  await self.clients.openWindow(url);
}

self.addEventListener("pushsubscriptionchange", (event) => event.waitUntil(renew(event)));

async function renew(event) {
  const token = await readToken();
  const options = event.oldSubscription && event.oldSubscription.options;
  if (!token || !options) return;
  const subscription = event.newSubscription || (await self.registration.pushManager.subscribe(options));
  await fetch("/api/push/subscriptions", {
    method: "POST",
    headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" },
    body: JSON.stringify(subscription.toJSON()),
  });
}

// The app's own files, network first: a phone with no signal still opens the app, which
// then says plainly that it is offline. The API is never cached.
self.addEventListener("fetch", (event) => {
  const url = new URL(event.request.url);
  // Only the app's own page: a visit to /admin/ or /api/docs/ must not replace it offline.
  const page = event.request.mode === "navigate" && url.pathname === "/";
  const shell = page || url.pathname.startsWith("/static/app/");
  if (event.request.method !== "GET" || url.origin !== self.location.origin || !shell) return;
  event.respondWith(networkFirst(event.request));
});

async function networkFirst(request) {
  const cache = await caches.open(SHELL);
  try {
    const response = await fetch(request);
    if (response.ok) await cache.put(request.mode === "navigate" ? "/" : request, response.clone());
    return response;
  } catch (error) {
    const cached = await cache.match(request.mode === "navigate" ? "/" : request);
    if (cached) return cached;
    throw error;
  }
}
