// REST calls with this device's token, and signing in and out.
// The token is kept on the device: localStorage for the page, IndexedDB for the
// service worker. It is only ever sent in the Authorization header, never in a URL.

import { forgetToken, keepToken } from "./keystore.js";

const TOKEN = "bleep.token";
const USER = "bleep.user";
// Signed in through the organisation's identity provider: signing out ends its session too.
const VIA_SSO = "bleep.via-sso";
// The device name typed before going to the identity provider, for when the browser is back.
const SSO_DEVICE_NAME = "bleep.sso-device-name";
// The device a sign-in again at the identity provider replaces, ended once the new one works.
const SSO_REPLACING = "bleep.sso-replacing";

// The server could not act just now but may in a moment (its database is down, or a proxy
// in front of it had no answer): the same request again, later, is the right response.
const UNAVAILABLE = new Set([502, 503, 504]);
const UNAVAILABLE_TEXT = "The server is unavailable just now; try again in a moment.";

export class ApiError extends Error {
  constructor(status, body, retryAfter = null) {
    super(body.detail || (UNAVAILABLE.has(status) ? UNAVAILABLE_TEXT : `the server answered ${status}`));
    this.status = status;
    this.code = body.code || "error";
    this.fields = body.fields || {};
    this.current = body.current;
    this.body = body;
    this.retryAfter = retryAfter; // seconds the server asked us to wait, or null
  }

  get unavailable() {
    return UNAVAILABLE.has(this.status);
  }
}

export class Offline extends Error {
  constructor() {
    super("No connection to the server.");
  }
}

export function token() {
  return localStorage.getItem(TOKEN);
}

export function savedUser() {
  try {
    return JSON.parse(localStorage.getItem(USER) || "null");
  } catch {
    return null;
  }
}

export function saveUser(user) {
  localStorage.setItem(USER, JSON.stringify(user));
}

// `enrolment`: a sign-in's enrolment token, sent instead of this device's (there is none
// yet) to the two routes that enrol an authenticator.
export async function api(method, path, body, { enrolment = null } = {}) {
  const headers = { Accept: "application/json" };
  if (enrolment) headers.Authorization = `Enrolment ${enrolment}`;
  else if (token()) headers.Authorization = `Bearer ${token()}`;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  let response;
  try {
    response = await fetch(`/api${path}`, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      cache: "no-store",
    });
  } catch {
    throw new Offline();
  }
  if (response.status === 401 && token() && !enrolment && path !== "/auth/login") {
    // The token was revoked (signed out from another device, or the account disabled).
    await forget();
    window.dispatchEvent(new CustomEvent("bleep:signed-out"));
  }
  if (response.status === 204) return null;
  const data = await response.json().catch(() => ({}));
  if (!response.ok) throw new ApiError(response.status, data, retryAfter(response));
  return data;
}

// Every list answers one page: {count, more, next, previous, results}, and the board and the
// inbox add how many emergencies the whole list has (docs/protocol.md, Paged lists).
export const PAGE = 50;
const PAGE_MAX = 200;

export function listPage(path, { offset = 0, limit = PAGE } = {}) {
  const joiner = path.includes("?") ? "&" : "?";
  return api("GET", `${path}${joiner}limit=${limit}&offset=${offset}`);
}

// The whole of a list a picker offers (teams, wards, roles), page after page.
export async function wholeList(path) {
  const all = [];
  for (;;) {
    const page = await listPage(path, { offset: all.length, limit: PAGE_MAX });
    all.push(...page.results);
    if (!page.more || !page.results.length) return all;
  }
}

// Retry-After in seconds (the server sends a number; an HTTP date from a proxy counts too).
function retryAfter(response) {
  const value = response.headers.get("Retry-After");
  if (!value) return null;
  const seconds = /^\d+$/.test(value.trim()) ? Number(value) : (Date.parse(value) - Date.now()) / 1000;
  return Number.isFinite(seconds) ? Math.max(0, seconds) : null;
}

// Sign in; `otp` is the authenticator's code or a recovery code, for people who set one up.
// An ApiError with code mfa_required asks for it; mfa_enrolment_required carries the token
// that enrols one (error.body.enrolment_token) and then finishes this sign-in.
export async function signIn({ username, password, deviceName, otp }) {
  const body = { username, password, device_name: deviceName };
  if (otp) body.otp = otp;
  return keepSignIn(await api("POST", "/auth/login", body));
}

// Keep a sign-in's token and person on this device: from a login, or from confirming an
// authenticator with an enrolment token.
export async function keepSignIn(answer) {
  localStorage.setItem(TOKEN, answer.token);
  saveUser(answer.user);
  await keepToken(answer.token).catch(() => {});
  return answer.user;
}

// How this deployment signs people in: {sso, provider_name, start_url, password_sign_in}.
export async function signInOptions() {
  return api("GET", "/auth/sso");
}

// Go to the identity provider to sign in; the browser comes back to `#/signed-in/<code>`.
// `replacing` is this device's id when it signs in again before its sign-in ends.
export function startSso(startUrl, deviceName, { replacing = null } = {}) {
  localStorage.setItem(SSO_DEVICE_NAME, deviceName);
  if (replacing !== null) localStorage.setItem(SSO_REPLACING, String(replacing));
  location.assign(startUrl);
}

// Whether this device signed in at the organisation's identity provider.
export function viaSso() {
  return localStorage.getItem(VIA_SSO) === "1";
}

// The device a finished sign-in again replaces (once: it is forgotten here), or null.
export function takeReplacedDevice() {
  const id = localStorage.getItem(SSO_REPLACING);
  localStorage.removeItem(SSO_REPLACING);
  return id;
}

// Exchange the one-minute code the identity provider's sign-in brought back for this
// device's token. The code is taken out of the address first, so it is not kept in history.
export async function finishSso(code) {
  history.replaceState(null, "", location.pathname);
  const deviceName = localStorage.getItem(SSO_DEVICE_NAME) || guessDeviceName();
  localStorage.removeItem(SSO_DEVICE_NAME);
  const user = await keepSignIn(await api("POST", "/auth/sso/exchange", { code, device_name: deviceName }));
  localStorage.setItem(VIA_SSO, "1");
  return user;
}

// Sign this device out; returns whether the identity provider's session should end too.
export async function signOut() {
  const endProviderSession = viaSso();
  try {
    await api("POST", "/auth/logout");
  } finally {
    await forget();
  }
  return endProviderSession;
}

async function forget() {
  localStorage.removeItem(TOKEN);
  localStorage.removeItem(USER);
  localStorage.removeItem(VIA_SSO);
  await forgetToken().catch(() => {});
}

// A name for this device in "my devices", from what the browser says about itself.
export function guessDeviceName() {
  const agent = navigator.userAgent;
  const system = /Android/.test(agent) ? "Android" : /iPhone|iPad/.test(agent) ? "iPhone" : /Mac/.test(agent) ? "Mac" : /Windows/.test(agent) ? "Windows" : "Linux";
  const browser = /Edg\//.test(agent) ? "Edge" : /Firefox\//.test(agent) ? "Firefox" : /Chrome\//.test(agent) ? "Chrome" : /Safari\//.test(agent) ? "Safari" : "browser";
  return `${browser} on ${system}`;
}
