-- 21: the rules each OneID run applied
-- Frozen: never edit a shipped migration; add a new one.
-- An incremental resolve gives what a full one would only while the same match and never-link rules
-- are on. A run records them (sorted rule ids, comma-separated); a run after a rule was added,
-- removed, turned on or off is a full one. Runs before this migration have none: the next is full.

ALTER TABLE oneid_runs ADD COLUMN rules VARCHAR;
