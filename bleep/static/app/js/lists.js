// The inbox and the sent list from the server, a page at a time; the socket's events keep
// what is loaded current, and "Show more" asks for the next page.

import { listPage } from "./api.js";
import { changed, inbox, putBleep, sent, store } from "./store.js";

const PATHS = { inbox: "/bleeps", sent: "/bleeps/sent" };
const LOADED = { inbox, sent };

async function loadPage(name, offset) {
  const page = await listPage(PATHS[name], { offset });
  for (const bleep of page.results) putBleep(bleep);
  store.pages[name] = { more: page.more, emergencies: page.emergencies || 0 };
}

export async function loadFirstPages() {
  await Promise.all(Object.keys(PATHS).map((name) => loadPage(name, 0)));
  changed({ loaded: true });
}

// The next page starts after what this device holds of the list: bleeps that came or went
// since are counted here as on the server, so none is skipped (one seen twice is kept once).
export async function loadMore(name) {
  await loadPage(name, LOADED[name]().length);
  changed({ loaded: true });
}
