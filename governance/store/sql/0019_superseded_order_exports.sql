-- 19: an order exported again supersedes its earlier exports
-- Frozen: never edit a shipped migration; add a new one.
-- Channels export an order again when it changes (paid, then refunded). Only the latest export of an
-- order counts: governance/events sets `superseded_at` on a row when a later batch of the same source
-- carries the same order number. customer_events leaves superseded rows out, so a refund reported
-- in a later export is never spend.

ALTER TABLE std_events ADD COLUMN superseded_at TIMESTAMP;

UPDATE std_events e SET superseded_at = now() AT TIME ZONE 'UTC'
FROM (SELECT source, order_id, max(batch_id) AS latest FROM std_events WHERE order_id IS NOT NULL GROUP BY ALL) m
WHERE e.source = m.source AND e.order_id = m.order_id AND e.batch_id < m.latest;

CREATE OR REPLACE VIEW customer_events AS
SELECT c.oneid, e.source, b.channel, e.batch_id, e.row_number, e.event_time,
       CASE WHEN e.order_id IS NOT NULL OR e.order_status IS NOT NULL THEN 'order' ELSE 'purchase' END AS type,
       e.order_id, e.amount,
       CASE WHEN e.order_status IN ('refunded', 'cancelled') THEN 0::DECIMAL(18,2) ELSE e.amount END AS spend,
       e.quantity, e.product_name, e.product_category, e.order_status, e.points, e.member_level,
       CAST(e.event_time AS DATE) AS event_date,
       coalesce(e.order_status, 'completed') IN ('completed', 'other') AS completed
FROM std_events e
JOIN crosswalk c ON c.batch_id = e.batch_id AND c.row_number = e.row_number
LEFT JOIN batches b ON b.batch_id = e.batch_id
WHERE e.superseded_at IS NULL;
