// Tell the person, above every screen until it is put right, that Bleep cannot reach them
// for a coming shift (the check an hour before each shift: docs/channels.md), with the way
// to put it right: Test my phone, on the Account screen.

import { listPage } from "./api.js";
import { store } from "./store.js";
import { clock, h, replace } from "./ui.js";

// The events after which the answer may have changed: a warning raised, a test confirmed
// on another phone, a number gone.
const CHANGES = new Set(["shift.unreachable", "phone.test", "contact.unusable"]);

export async function checkReachable() {
  const notice = document.getElementById("reach-warning");
  if (!store.me) return;
  let mine = [];
  try {
    const page = await listPage("/contactability/warnings");
    mine = page.results.filter((warning) => warning.person.id === store.me.id);
  } catch {
    return; // offline: keep what it said
  }
  notice.hidden = !mine.length;
  if (!mine.length) return replace(notice);
  const first = mine[0];
  replace(
    notice,
    h("p", {}, `You are on call as ${first.role.name} from ${clock(first.shift_start)} and Bleep cannot reach your phone.`),
    h("a", { href: "#/account", class: "button secondary" }, "Test my phone"),
  );
}

export function reachMayHaveChanged(change) {
  return Boolean(change.event && CHANGES.has(change.event.type)) || Boolean(change.reachable);
}
