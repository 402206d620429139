// Loading the inbox and the sent list a page at a time (bleep/static/app/js/lists.js) into
// the store, against a stand-in for the server's paged lists.
import assert from "node:assert/strict";
import { beforeEach, describe, test } from "node:test";

import { loadFirstPages, loadMore } from "../../bleep/static/app/js/lists.js";
import { inbox, store, subscribe } from "../../bleep/static/app/js/store.js";
import { bleep, DOCTOR } from "./fixtures.mjs";

// What the page's localStorage holds: this device's token.
globalThis.localStorage = {
  items: new Map([["bleep.token", "device-token"]]),
  getItem(key) {
    return this.items.has(key) ? this.items.get(key) : null;
  },
  setItem(key, value) {
    this.items.set(key, String(value));
  },
  removeItem(key) {
    this.items.delete(key);
  },
};

let asked = [];
let pages = {};

// The server's paged lists: {count, more, next, previous, results}, plus emergencies.
globalThis.fetch = async (url, options) => {
  asked.push({ url, authorization: options.headers.Authorization });
  const [path, query] = url.split("?");
  const offset = Number(new URLSearchParams(query).get("offset"));
  const page = pages[path][offset];
  return new Response(JSON.stringify(page), { status: 200, headers: { "Content-Type": "application/json" } });
};

function page(results, { more = 0, emergencies = 0 } = {}) {
  return { count: results.length + more, more, next: null, previous: null, emergencies, results };
}

describe("loading lists into the store", () => {
  beforeEach(() => {
    store.me = { ...DOCTOR, job: "doctor" };
    store.bleeps.clear();
    asked = [];
  });

  test("the first pages of the inbox and the sent list fill the store and say how many more", async () => {
    pages = {
      "/api/bleeps": { 0: page([bleep(1, { priority: "emergency" }), bleep(2)], { more: 3, emergencies: 2 }) },
      "/api/bleeps/sent": { 0: page([]) },
    };
    const heard = [];
    const unsubscribe = subscribe((change) => heard.push(change));
    await loadFirstPages();
    unsubscribe();
    assert.deepEqual(inbox().map((b) => b.id), [1, 2]);
    assert.deepEqual(store.pages.inbox, { more: 3, emergencies: 2 });
    assert.deepEqual(store.pages.sent, { more: 0, emergencies: 0 });
    assert.deepEqual(heard, [{ loaded: true }]);
    assert.ok(asked.every((call) => call.authorization === "Bearer device-token"));
  });

  test("the next page starts after what the device holds, and a bleep seen twice is kept once", async () => {
    pages = {
      "/api/bleeps": {
        0: page([bleep(1), bleep(2)], { more: 2 }),
        2: page([bleep(2), bleep(3)]),
      },
      "/api/bleeps/sent": { 0: page([]) },
    };
    await loadFirstPages();
    await loadMore("inbox");
    assert.equal(asked.at(-1).url, "/api/bleeps?limit=50&offset=2");
    assert.deepEqual([...store.bleeps.keys()].sort(), [1, 2, 3]);
    assert.deepEqual(store.pages.inbox, { more: 0, emergencies: 0 });
  });
});
