"""Who may do what: users, roles, sessions, and the tamper-evident audit log."""
