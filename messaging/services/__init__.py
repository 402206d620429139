"""Writes of the messaging domain, one module per concern: devices, the second factor
(mfa), the event stream, the history of transitions, bleeps (send, cancel, remind) and
answers (receipts, acknowledge, decline, reply)."""
