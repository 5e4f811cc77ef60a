-- 16: purchase and order events, and the customer_events view
-- Frozen: never edit a shipped migration; add a new one.
-- Event fields (order number, time, amount, …) describe what happened, not who the person is: they
-- live here, apart from std_records. governance/events writes std_events when a batch that maps any
-- event field is standardized. `unparsed` lists the event fields whose non-empty value did not parse.

CREATE TABLE std_events (batch_id BIGINT NOT NULL, row_number BIGINT NOT NULL, source VARCHAR NOT NULL, order_id VARCHAR, event_time TIMESTAMP, amount DECIMAL(18,2), quantity INTEGER, product_name VARCHAR, product_category VARCHAR, order_status VARCHAR, points INTEGER, member_level VARCHAR, unparsed VARCHAR[] NOT NULL);

-- Each event under the OneID of its record. Refunded and cancelled orders never count as spend.
CREATE VIEW customer_events AS
SELECT c.oneid, e.source, b.channel, e.batch_id, e.row_number, e.event_time,
       CASE WHEN e.order_id IS NOT NULL OR e.order_status IS NOT NULL THEN 'order' ELSE 'purchase' END AS type,
       e.order_id, e.amount,
       CASE WHEN e.order_status IN ('refunded', 'cancelled') THEN 0::DECIMAL(18,2) ELSE e.amount END AS spend,
       e.quantity, e.product_name, e.product_category, e.order_status, e.points, e.member_level
FROM std_events e
JOIN crosswalk c ON c.batch_id = e.batch_id AND c.row_number = e.row_number
LEFT JOIN batches b ON b.batch_id = e.batch_id;
