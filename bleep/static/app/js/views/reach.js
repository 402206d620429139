// The account screen's "Reaching you" panel: Test my phone, and the numbers Bleep texts or
// pages when this phone does not confirm a bleep in time (each verified with a code sent
// to it first). The numbers are shown only here; the server keeps them.

import { api, ApiError } from "../api.js";
import { changed, store, subscribe } from "../store.js";
import { clock, h, replace } from "../ui.js";

const KINDS = {
  sms: { label: "Mobile number for text messages", noun: "mobile", type: "tel", placeholder: "07700 900123" },
  pager: { label: "Pager number", noun: "pager", type: "text", placeholder: "4455" },
};

export function renderReach(me) {
  const status = h("p", { id: "reach-status", role: "status" });
  const tests = h("div", { id: "phone-test" });
  const numbers = h("div", { id: "contacts" });
  const panel = h(
    "section",
    { class: "panel", "aria-labelledby": "reach-title" },
    h("h2", { id: "reach-title" }, "Reaching you"),
    h("p", {}, "Test my phone sends a test bleep to every phone you are signed in on. When it arrives, confirm it: Bleep then knows this phone rings. Do it before a run of shifts."),
    h("button", { type: "button", class: "wide", id: "test-my-phone", onclick: startTest }, "Test my phone"),
    tests,
    status,
    numbers,
  );

  async function startTest() {
    status.textContent = "";
    try {
      const test = await api("POST", "/me/phone-tests");
      status.textContent = `Test bleep sent at ${clock(test.created_at)}: confirm it when it arrives.`;
    } catch (error) {
      status.textContent = `Could not send the test: ${error.message}`;
    }
  }

  function drawTest() {
    const test = store.phoneTest;
    if (!test) return replace(tests);
    replace(
      tests,
      h("p", {}, `A test bleep arrived at ${clock(test.at || test.created_at)}.`),
      h("button", { type: "button", class: "wide", id: "confirm-test", onclick: () => confirmTest(test) }, "It arrived: confirm"),
    );
  }

  async function confirmTest(test) {
    try {
      await api("POST", `/me/phone-tests/${test.test_id}/confirm`);
      store.phoneTest = null;
      drawTest();
      status.textContent = "Confirmed: this phone counts as one that rings.";
      changed({ reachable: true });
    } catch (error) {
      status.textContent = `Could not confirm: ${error.message}`;
    }
  }

  async function drawNumbers() {
    if (!me.channels || !me.channels.length) return replace(numbers);
    let contacts = [];
    try {
      contacts = (await api("GET", "/me/contacts")).results;
    } catch (error) {
      return replace(numbers, h("p", { class: "error", role: "alert" }, `Could not load your numbers: ${error.message}`));
    }
    replace(
      numbers,
      h("p", {}, "If this phone does not confirm a bleep in time, Bleep texts or pages you as well. It says who and how urgent, never about the patient."),
      ...me.channels.map((kind) => {
        const contact = contacts.find((c) => c.kind === kind);
        return contact ? numberShown(contact) : addForm(kind);
      }),
    );
  }

  function numberShown(contact) {
    const kind = KINDS[contact.kind];
    const problem = h("p", { class: "error", id: `contact-${contact.id}-problem`, role: "alert" });
    const words = !contact.usable
      ? `cannot be reached (${contact.unusable_reason}): add it again, or another`
      : contact.verified ? "verified: in use" : "waiting for the code sent to it";
    const remove = h("button", { type: "button", class: "secondary", onclick: () => act(() => api("DELETE", `/me/contacts/${contact.id}`), problem) }, "Remove");
    const block = h("div", { class: "contact", "data-contact": contact.kind }, h("h3", {}, kind.label), h("p", {}, `${contact.address}: ${words}`));
    if (contact.verified || !contact.usable) {
      block.append(problem, h("div", { class: "actions" }, remove));
      return block;
    }
    const codeId = `contact-${contact.id}-code`;
    const form = h(
      "form",
      { novalidate: true, "aria-label": `Verify your ${kind.noun}` },
      h("label", { for: codeId }, `The 6-digit code sent to your ${kind.noun}`),
      h("input", { id: codeId, name: "code", autocomplete: "one-time-code", inputmode: "numeric", maxlength: 6, required: true }),
      problem,
      h(
        "div",
        { class: "actions" },
        h("button", { type: "submit" }, "Verify"),
        h("button", { type: "button", class: "secondary", onclick: () => act(() => api("POST", `/me/contacts/${contact.id}/code`), problem) }, "Send a new code"),
        remove,
      ),
    );
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      const code = form.querySelector("input").value.trim();
      act(() => api("POST", `/me/contacts/${contact.id}/verify`, { code }), problem);
    });
    block.append(form);
    return block;
  }

  function addForm(kind) {
    const words = KINDS[kind];
    const inputId = `add-${kind}`;
    const problem = h("p", { class: "error", id: `add-${kind}-problem`, role: "alert" });
    const form = h(
      "form",
      { novalidate: true, "aria-label": `Add your ${words.noun}`, "data-contact": kind },
      h("label", { for: inputId }, words.label),
      h("input", { id: inputId, name: "address", type: words.type, inputmode: kind === "sms" ? "tel" : "numeric", autocomplete: kind === "sms" ? "tel" : "off", placeholder: words.placeholder, maxlength: 40, required: true }),
      problem,
      h("button", { type: "submit", class: "wide" }, "Add and send a code"),
    );
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      const address = form.querySelector("input").value.trim();
      act(() => api("POST", "/me/contacts", { kind, address }), problem);
    });
    return form;
  }

  async function act(call, problem) {
    problem.textContent = "";
    try {
      await call();
      await drawNumbers();
      changed({ reachable: true });
    } catch (error) {
      const fields = error instanceof ApiError ? Object.values(error.fields).flat() : [];
      problem.textContent = fields.length ? fields.join(" ") : error.message;
    }
  }

  drawTest();
  drawNumbers();
  const unsubscribe = subscribe(() => drawTest());
  return { panel, unsubscribe };
}
