"""Writes of the rota, one module per concern: records (with the audit), patterns, swaps,
calendars (import and export) and the demo hospital."""
