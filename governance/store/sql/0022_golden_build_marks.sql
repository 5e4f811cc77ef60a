-- 22: what a golden build saw
-- Frozen: never edit a shipped migration; add a new one.
-- A refresh finds the OneIDs to rebuild from the OneID runs since the last build (a run writes its id
-- on the crosswalk rows it places and names the OneIDs it retires) instead of fingerprinting every
-- OneID, as long as nothing else changed. A build records the last run and the latest
-- standardization it saw. Builds before this migration have neither: the next refresh fingerprints.

ALTER TABLE golden_builds ADD COLUMN last_run BIGINT;

ALTER TABLE golden_builds ADD COLUMN std_stamp TIMESTAMP;
