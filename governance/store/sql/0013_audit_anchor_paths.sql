-- 13: the paths a store's audit chain has been anchored at
-- Frozen: never edit a shipped migration; add a new one.
-- The audit log's anchor is a file beside the secrets file, one per store path
-- (governance/access/audit.py). A missing anchor is reported as tampering only for a path listed
-- here; a store copied or moved to another path starts its own anchor.

CREATE TABLE audit_anchor_paths (path VARCHAR PRIMARY KEY, anchored_at TIMESTAMP NOT NULL);
