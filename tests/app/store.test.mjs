// The phone app's store (bleep/static/app/js/store.js): what the socket's events make of it.
import assert from "node:assert/strict";
import { beforeEach, describe, test } from "node:test";

import { answered, applyEvent, emergenciesForMe, inbox, sent, store, subscribe, changed } from "../../bleep/static/app/js/store.js";
import { bleep, created, DOCTOR, NURSE, REGISTRAR } from "./fixtures.mjs";

function signedInAs(person, job = "doctor") {
  store.me = { ...person, job };
  store.bleeps.clear();
  store.overdue = null;
}

describe("applying the socket's events", () => {
  beforeEach(() => signedInAs(DOCTOR));

  test("a new bleep to me is in my inbox and is announced with its priority and sender", () => {
    const said = applyEvent(created(bleep(1)));
    assert.equal(said, "New urgent bleep from Nurse Ng");
    assert.deepEqual(inbox().map((b) => b.id), [1]);
  });

  test("a bleep I sent is in my sent list, not my inbox, and is not announced to me", () => {
    signedInAs(NURSE, "nurse");
    assert.equal(applyEvent(created(bleep(1))), null);
    assert.deepEqual(inbox(), []);
    assert.deepEqual(sent().map((b) => b.id), [1]);
  });

  test("my inbox puts emergencies first, then the newest", () => {
    applyEvent(created(bleep(1, { priority: "routine", createdAt: "2026-01-05T10:03:00+00:00" })));
    applyEvent(created(bleep(2, { priority: "emergency", createdAt: "2026-01-05T10:00:00+00:00" })));
    applyEvent(created(bleep(3, { priority: "routine", createdAt: "2026-01-05T10:05:00+00:00" })));
    assert.deepEqual(inbox().map((b) => b.id), [2, 3, 1]);
    assert.deepEqual(emergenciesForMe().map((b) => b.id), [2]);
  });

  test("a receipt replaces my copy with the server's description of it", () => {
    const sentBleep = bleep(1);
    applyEvent(created(sentBleep));
    const mine = sentBleep.deliveries[0];
    const said = applyEvent({ type: "delivery.updated", bleep_id: 1, delivery: { ...mine, status: "read" } });
    assert.equal(said, "Dr Okafor: read");
    const kept = store.bleeps.get(1).deliveries[0];
    assert.equal(kept.status, "read");
    assert.equal(kept.role, 7);
  });

  test("an acknowledgement closes the bleep, names who answered, and moves it out of my inbox", () => {
    const sentBleep = bleep(1, { to: [DOCTOR, REGISTRAR] });
    applyEvent(created(sentBleep));
    const theirs = { ...sentBleep.deliveries[1], status: "acknowledged", eta_minutes: 5 };
    const said = applyEvent({ type: "bleep.acknowledged", bleep_id: 1, by: REGISTRAR, eta_minutes: 5, comment: "", delivery: theirs });
    assert.equal(said, "Acknowledged by Dr Reyes");
    const stored = store.bleeps.get(1);
    assert.equal(stored.status, "acknowledged");
    assert.deepEqual(stored.acknowledged_by, REGISTRAR);
    assert.equal(stored.deliveries[1].eta_minutes, 5);
    assert.deepEqual(inbox(), []);
    assert.deepEqual(answered().map((b) => b.id), [1]);
  });

  test("a decline is announced with its reason and kept on the decliner's copy", () => {
    const sentBleep = bleep(1);
    applyEvent(created(sentBleep));
    const declined = { ...sentBleep.deliveries[0], status: "declined", decline_reason: "in resus" };
    const said = applyEvent({ type: "bleep.declined", bleep_id: 1, by: DOCTOR, reason: "in resus", delivery: declined });
    assert.equal(said, "Declined by Dr Okafor: in resus");
    assert.equal(store.bleeps.get(1).deliveries[0].decline_reason, "in resus");
  });

  test("a cancelled bleep cancels every copy still waiting and leaves my inbox", () => {
    applyEvent(created(bleep(1, { to: [DOCTOR, REGISTRAR] })));
    assert.equal(applyEvent({ type: "bleep.cancelled", bleep_id: 1, by: NURSE }), "Cancelled by Nurse Ng");
    const stored = store.bleeps.get(1);
    assert.equal(stored.status, "cancelled");
    assert.deepEqual(stored.deliveries.map((d) => d.status), ["cancelled", "cancelled"]);
    assert.deepEqual(inbox(), []);
  });

  test("an escalation adds the new people to the bleep and says who they are", () => {
    const first = bleep(1);
    applyEvent(created(first));
    const widened = bleep(1, { to: [DOCTOR, REGISTRAR] });
    widened.deliveries[0] = first.deliveries[0];
    const said = applyEvent({ type: "bleep.escalated", bleep: widened, added: [REGISTRAR] });
    assert.equal(said, "Escalated to Dr Reyes");
    assert.equal(store.bleeps.get(1).deliveries.length, 2);
  });

  test("an event about a bleep this device never saw changes nothing and says nothing", () => {
    assert.equal(applyEvent({ type: "bleep.cancelled", bleep_id: 9, by: NURSE }), null);
    assert.equal(applyEvent({ type: "bleep.renotified", bleep_id: 9, at: "2026-01-05T10:00:00+00:00" }), null);
    assert.equal(store.bleeps.size, 0);
  });

  test("an overdue warning is kept until escalations run again", () => {
    const overdue = { type: "escalation.overdue", detail: "Escalations are overdue: phone the teams" };
    assert.equal(applyEvent(overdue), overdue.detail);
    assert.equal(store.overdue, overdue);
    applyEvent({ type: "escalation.recovered" });
    assert.equal(store.overdue, null);
  });

  test("an event type the app does not know is ignored", () => {
    assert.equal(applyEvent({ type: "bleep.from_the_future" }), null);
  });

  test("listeners hear each change until they unsubscribe", () => {
    const heard = [];
    const unsubscribe = subscribe((change) => heard.push(change));
    changed({ loaded: true });
    unsubscribe();
    changed({ loaded: true });
    assert.deepEqual(heard, [{ loaded: true }]);
  });
});
