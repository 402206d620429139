// Web Push: the service worker, this device's subscription, and telling the server of it.

import { api, wholeList } from "./api.js";

export function pushSupported() {
  return "serviceWorker" in navigator && "PushManager" in window && "Notification" in window;
}

export async function registerWorker() {
  if (!("serviceWorker" in navigator)) return null;
  return navigator.serviceWorker.register("/sw.js", { scope: "/" });
}

// "on", "off", "blocked" or "unsupported", for this device.
export async function pushState() {
  if (!pushSupported()) return "unsupported";
  if (Notification.permission === "denied") return "blocked";
  if (Notification.permission !== "granted") return "off";
  const registration = await navigator.serviceWorker.getRegistration("/");
  const subscription = registration && (await registration.pushManager.getSubscription());
  if (!subscription) return "off";
  const known = await wholeList("/push/subscriptions").catch(() => []);
  return known.some((row) => row.current && row.endpoint === subscription.endpoint) ? "on" : "off";
}

// Ask to show notifications, subscribe with the server's key and register the subscription.
export async function turnOnPush() {
  const permission = await Notification.requestPermission();
  if (permission !== "granted") throw new Error("Notifications are blocked for this site in the browser's settings.");
  const registration = await navigator.serviceWorker.ready;
  const { public_key: key } = await api("GET", "/push/key");
  const subscription =
    (await registration.pushManager.getSubscription()) ||
    (await registration.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: fromBase64Url(key) }));
  return saveSubscription(subscription.toJSON());
}

// Register a subscription (PushSubscription.toJSON()) for this device.
export function saveSubscription(subscription) {
  return api("POST", "/push/subscriptions", subscription);
}

// After signing in again: this browser's subscription, if any, moves to the new device, so
// ending the old device does not end its pushes.
export async function moveSubscriptionHere() {
  if (!pushSupported() || Notification.permission !== "granted") return;
  const registration = await navigator.serviceWorker.getRegistration("/");
  const subscription = registration && (await registration.pushManager.getSubscription());
  if (subscription) await saveSubscription(subscription.toJSON());
}

function fromBase64Url(text) {
  const base64 = (text + "=".repeat((4 - (text.length % 4)) % 4)).replaceAll("-", "+").replaceAll("_", "/");
  return Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
}
