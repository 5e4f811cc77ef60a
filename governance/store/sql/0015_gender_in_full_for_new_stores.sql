-- 15: gender shown in full to every role in a store that holds no customer data yet
-- Frozen: never edit a shipped migration; add a new one.
-- Gender identifies no one on its own and is what segmentation needs, so the default rule of the
-- gender class is now `full` for every role (masking.DEFAULT_RULES; docs/administration.md says why).
-- Migration 9 seeds every store with `partial` (`*`): a new store (no batch loaded yet) takes the new
-- default here. A store that already holds data keeps the policy its people have worked under; its
-- admin changes the rule on the Masking policies page (`masking set gender ROLE full`), audited.
-- Only rules nobody has changed (still the seed of migration 9) are touched.

UPDATE masking_policies SET method = 'full', keep_start = NULL, keep_end = NULL, updated_at = now()::TIMESTAMP
WHERE sensitivity_class = 'gender' AND method = 'partial' AND updated_by = 'system'
  AND NOT EXISTS (SELECT 1 FROM batches);
