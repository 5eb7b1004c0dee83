"""Check-ins: offers of support after critical incidents, with durable timers, and the
record that support happened (never what was said)."""
