"""Who may do and see what: users, roles, sessions, masking per role, and the tamper-evident audit log of declared events."""
