-- 24: records an erasure touched
-- Frozen: never edit a shipped migration; add a new one.
-- Erasing a record changes what the records around it link to: a phone no longer shared with another
-- name, a rule group without the record that split it, a nickname rare again, a OneID without the
-- record that kept two others apart. The erased values are gone afterwards, so the erasure notes
-- those records (ids of records that remain, no values) for the next incremental resolve, which
-- resolves them again; every run clears the table.
CREATE TABLE oneid_touched (rec_id BIGINT NOT NULL);
