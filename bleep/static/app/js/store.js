// What this device knows: the bleeps it has seen, kept current by the socket's events.

import { clock, handlingLine, WAITING } from "./ui.js";

export const store = {
  me: null,
  bleeps: new Map(),
  overdue: null,
  // A test bleep that has arrived and waits for the person to confirm it (js/views/reach.js).
  phoneTest: null,
  // What the server's paged lists hold past what this device loaded (js/lists.js).
  pages: { inbox: { more: 0, emergencies: 0 }, sent: { more: 0, emergencies: 0 } },
};

const listeners = new Set();

export function subscribe(listener) {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

export function changed(change = {}) {
  for (const listener of [...listeners]) listener(change);
}

// REST answers and events describe a bleep and its copies in one shape (the server's
// events.bleep_summary), so a newer description replaces an older one whole; only what
// this device notes itself (when it was last reminded) is kept from before.
export function putBleep(bleep) {
  const merged = { ...store.bleeps.get(bleep.id), ...bleep };
  store.bleeps.set(bleep.id, merged);
  return merged;
}

function putDelivery(bleepId, delivery) {
  const bleep = store.bleeps.get(bleepId);
  if (!bleep) return null;
  const found = bleep.deliveries.findIndex((d) => d.id === delivery.id);
  if (found === -1) bleep.deliveries.push(delivery);
  else bleep.deliveries[found] = delivery;
  return bleep;
}

// Apply one event; return a sentence saying what changed, for people who cannot see it.
export function applyEvent(event) {
  const name = (person) => (person ? person.name : "someone");
  switch (event.type) {
    case "bleep.created": {
      const bleep = putBleep(event.bleep);
      return mine(bleep) ? `New ${bleep.priority} bleep from ${bleep.sender.name}` : null;
    }
    case "delivery.updated": {
      const bleep = putDelivery(event.bleep_id, event.delivery);
      return bleep ? `${name(event.delivery.recipient)}: ${event.delivery.status}` : null;
    }
    case "bleep.acknowledged": {
      const bleep = store.bleeps.get(event.bleep_id);
      if (!bleep) return null;
      putDelivery(event.bleep_id, event.delivery);
      bleep.status = "acknowledged";
      bleep.acknowledged_by = event.by;
      return `Acknowledged by ${name(event.by)}`;
    }
    case "bleep.declined": {
      const bleep = putDelivery(event.bleep_id, event.delivery);
      return bleep ? `Declined by ${name(event.by)}: ${event.reason}` : null;
    }
    case "bleep.handling": {
      const bleep = putBleep(event.bleep);
      return handlingLine(bleep) || `Switchboard (${name(event.by)}) is handling it`;
    }
    case "bleep.cancelled": {
      const bleep = store.bleeps.get(event.bleep_id);
      if (!bleep) return null;
      bleep.status = "cancelled";
      for (const delivery of bleep.deliveries) {
        if (WAITING.has(delivery.status) || delivery.status === "handling") delivery.status = "cancelled";
      }
      bleep.handling = [];
      return `Cancelled by ${name(event.by)}`;
    }
    case "bleep.reply":
      return `${name(event.reply.author)} replied: ${event.reply.text}`;
    case "bleep.renotified": {
      const bleep = store.bleeps.get(event.bleep_id);
      if (bleep) bleep.reminded_at = event.at;
      return bleep ? "Reminder: still waiting for an answer" : null;
    }
    case "bleep.escalated":
    case "bleep.handed_over":
    case "bleep.redirected": {
      putBleep(event.bleep);
      const added = event.added.map((person) => person.name).join(", ");
      const verb = { "bleep.escalated": "Escalated to", "bleep.handed_over": "Handed over to", "bleep.redirected": "Redirected to" }[event.type];
      return `${verb} ${added}`;
    }
    case "escalation.overdue":
      store.overdue = event;
      return event.detail;
    case "switchboard.flood":
      return event.alert.detail;
    case "phone.test":
      store.phoneTest = event;
      return "Test bleep arrived: confirm it on the Account screen";
    case "contact.unusable":
      return store.me && event.person.id === store.me.id
        ? `Your ${event.kind === "sms" ? "mobile" : "pager"} number cannot be reached: ${event.reason}. Add it again on the Account screen.`
        : `${name(event.person)}'s ${event.kind === "sms" ? "mobile" : "pager"} number cannot be reached`;
    case "shift.unreachable":
      return store.me && event.warning.person.id === store.me.id
        ? `You are on call as ${event.warning.role.name} from ${clock(event.warning.shift_start)} and Bleep cannot reach your phone: test it on the Account screen.`
        : event.warning.detail;
    case "escalation.recovered":
      store.overdue = null;
      return "Escalations are running again";
    default:
      return null;
  }
}

export function myDelivery(bleep) {
  return store.me ? (bleep.deliveries || []).find((d) => d.recipient.id === store.me.id) : undefined;
}

// Switchboard's answer to a clinician's bleep is to take it on, not to acknowledge it: the
// server refuses the acknowledgement (HZ-12), so the app offers switchboard's actions.
export function takesOnInstead(bleep) {
  return Boolean(store.me && store.me.job === "switchboard" && !bleep.for_switchboard);
}

export function mine(bleep) {
  return Boolean(myDelivery(bleep));
}

// Open bleeps sent to me, the most urgent first and then the newest.
export function inbox() {
  const rank = { emergency: 0, urgent: 1, routine: 2 };
  return [...store.bleeps.values()]
    .filter((bleep) => mine(bleep) && bleep.status === "open" && myDelivery(bleep).status !== "cancelled")
    .sort((a, b) => rank[a.priority] - rank[b.priority] || b.created_at.localeCompare(a.created_at));
}

// Bleeps sent to me that are over, newest first: what this device saw.
export function answered() {
  return [...store.bleeps.values()]
    .filter((bleep) => mine(bleep) && (bleep.status !== "open" || myDelivery(bleep).status === "cancelled"))
    .sort((a, b) => b.created_at.localeCompare(a.created_at));
}

export function sent() {
  return [...store.bleeps.values()]
    .filter((bleep) => store.me && bleep.sender.id === store.me.id)
    .sort((a, b) => b.created_at.localeCompare(a.created_at));
}

// Open emergencies still waiting for my answer.
export function emergenciesForMe() {
  return inbox().filter((bleep) => bleep.priority === "emergency" && WAITING.has(myDelivery(bleep).status));
}
