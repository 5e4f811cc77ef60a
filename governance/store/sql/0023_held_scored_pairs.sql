-- 23: scored pairs the auto-link guards hold back
-- Frozen: never edit a shipped migration; add a new one.
-- A scored pair is held back when no threshold would link it by the model alone: different names, a
-- household phone without a name, an order shipped to someone else against another account's record.
-- Calibration measures a probability band's precision over the pairs a threshold decides, so it needs
-- to tell them apart. NULL: scored before this column existed (counted as not held).
ALTER TABLE match_pairs ADD COLUMN held BOOLEAN;
