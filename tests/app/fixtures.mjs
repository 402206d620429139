// Bleeps and events shaped as the server sends them (messaging/events.py, docs/protocol.md).

export const NURSE = { id: 1, name: "Nurse Ng" };
export const DOCTOR = { id: 2, name: "Dr Okafor" };
export const REGISTRAR = { id: 3, name: "Dr Reyes" };

let nextDelivery = 100;

export function delivery(recipient, status = "sent") {
  nextDelivery += 1;
  return {
    id: nextDelivery,
    recipient,
    role: 7,
    status,
    updated_at: "2026-01-05T10:00:00+00:00",
    eta_minutes: null,
    comment: "",
    decline_reason: "",
  };
}

export function bleep(id, { priority = "urgent", createdAt = "2026-01-05T10:00:00+00:00", to = [DOCTOR] } = {}) {
  return {
    id,
    status: "open",
    priority,
    role: { id: 7, name: "Medical registrar", bleep_number: "4321" },
    answering_role: { id: 7, name: "Medical registrar", bleep_number: "4321" },
    person: null,
    team_call: null,
    sender: { ...NURSE, job: "nurse" },
    message: "Patient in bed 4 is unwell",
    location: "Ward 5",
    bed: "4",
    callback_extension: "2345",
    nhs_number: "",
    created_at: createdAt,
    acknowledged_by: null,
    for_switchboard: false,
    handling: [],
    deliveries: to.map((person) => delivery(person)),
  };
}

export function created(sent) {
  return { type: "bleep.created", bleep: sent };
}
