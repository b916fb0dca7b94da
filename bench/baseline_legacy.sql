-- The legacy A0-A4 program (DOMAIN.md §4) by hand, in DuckDB SQL: every member's points and level at
-- the end of day $as_of (a 'YYYY-MM-DD' text).
--
-- Input: a view `events(member, type, at, id, "order", amount, category, points, line)`, one row a
-- history line, `line` its position in the file (bench/baseline.py makes it from JSON Lines or Parquet).
-- The session time zone must be UTC: a time without an offset is then read as UTC.
--
-- Lifetime and continuous: the status at the end of day D counts every event before T = D+1 00:00 UTC.
WITH
params AS (SELECT (CAST($as_of AS DATE) + 1)::TIMESTAMP AS t_end),
parsed AS (
    SELECT
        member, type, id, line, "order" AS order_id,
        -- Offsets converted to UTC (a cast to TIMESTAMP would drop them); a bare date is 00:00 UTC.
        timezone('UTC', CAST("at" AS TIMESTAMPTZ)) AS ts
    FROM events
),
distinct_events AS MATERIALIZED (  -- a repeated (member, id) is one event: the first line wins
    SELECT * FROM parsed WHERE id IS NULL
    UNION ALL
    SELECT * FROM parsed WHERE id IS NOT NULL
    QUALIFY row_number() OVER (PARTITION BY member, id ORDER BY line) = 1
),
members AS (SELECT DISTINCT member FROM distinct_events),
before AS MATERIALIZED (
    SELECT e.* EXCLUDE (id, line)
    FROM distinct_events e, params
    WHERE ts < t_end
        AND type IN ('order_confirmed', 'order_returned', 'order_fraud', 'feedback_left', 'feedback_received')
),
voided AS (SELECT DISTINCT member, order_id FROM before WHERE type IN ('order_returned', 'order_fraud')),
confirmed AS (SELECT DISTINCT member, order_id FROM before WHERE type = 'order_confirmed'),
-- 10 points per order_confirmed not voided, 5 more per calendar day with at least one.
orders AS (
    SELECT member, 10 * count(*) + 5 * count(DISTINCT ts::DATE) AS order_points
    FROM before o
    WHERE type = 'order_confirmed'
        AND NOT EXISTS (SELECT 1 FROM voided v WHERE v.member = o.member AND v.order_id = o.order_id)
    GROUP BY member
),
-- Feedback left and feedback received on a confirmed order: 2 points each, at most once per order.
feedback AS (
    SELECT member, 2 * count(DISTINCT (type, order_id)) AS feedback_points
    FROM before
    JOIN confirmed USING (member, order_id)
    WHERE type IN ('feedback_left', 'feedback_received')
    GROUP BY member
),
totals AS (
    SELECT member, coalesce(order_points, 0) + coalesce(feedback_points, 0) AS points
    FROM members
    LEFT JOIN orders USING (member)
    LEFT JOIN feedback USING (member)
)
SELECT
    member,
    points::BIGINT AS points,
    CASE
        WHEN points >= 2000 THEN 'A4'
        WHEN points >= 500 THEN 'A3'
        WHEN points >= 100 THEN 'A2'
        WHEN points >= 1 THEN 'A1'
        ELSE 'A0'
    END AS tier
FROM totals
ORDER BY member
