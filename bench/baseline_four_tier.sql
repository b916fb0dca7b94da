-- The four-tier program (DOMAIN.md §3) by hand, in DuckDB SQL: every member's points and tier at the
-- end of day $as_of (a 'YYYY-MM-DD' text).
--
-- Input: a view `events(member, type, at, id, "order", amount, category, points, line)`, one row a
-- history line, `line` its position in the file (bench/baseline.py makes it from JSON Lines or Parquet).
-- The session time zone must be UTC: a time without an offset is then read as UTC.
--
-- The status at the end of day D (instant T = D+1 00:00 UTC) is the recalculation at the first instant
-- of T's month, R. It counts the events dated in the 12 months before R, with the voids and
-- confirmations dated before R (even before the window).
WITH
params AS (
    SELECT recalc, recalc - INTERVAL 12 MONTH AS window_start
    FROM (SELECT date_trunc('month', CAST($as_of AS DATE) + 1)::TIMESTAMP AS recalc)
),
parsed AS (
    SELECT
        member, type, id, line, "order" AS order_id, amount, category, points,
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
    SELECT e.* EXCLUDE (id, line), ts >= window_start AS in_window
    FROM distinct_events e, params
    WHERE ts < recalc AND type IN ('order_confirmed', 'order_returned', 'order_fraud', 'review', 'visit', 'club_post', 'bonus')
),
voided AS (SELECT DISTINCT member, order_id FROM before WHERE type IN ('order_returned', 'order_fraud')),
confirmed AS (SELECT DISTINCT member, order_id FROM before WHERE type = 'order_confirmed'),
-- Shopping: 5 points per qualifying order, at most 5 a day, so 5 per day with one; category bonus:
-- 1 per distinct category of the day's qualifying orders beyond the first (not capped).
shopping AS (
    SELECT member, 5 * count(*) AS shopping, sum(categories - 1) AS category_bonus
    FROM (
        SELECT member, ts::DATE AS day, count(DISTINCT category) AS categories
        FROM before o
        WHERE in_window AND type = 'order_confirmed' AND amount >= 2.00
            AND NOT EXISTS (SELECT 1 FROM voided v WHERE v.member = o.member AND v.order_id = o.order_id)
        GROUP BY member, day
    )
    GROUP BY member
),
-- Review: 1 point per order whose first review ever (before R) is in the window, if the order has an
-- order_confirmed dated before R.
reviews AS (
    SELECT member, count(*) AS review
    FROM (SELECT member, order_id, min(ts) AS first_review FROM before WHERE type = 'review' GROUP BY ALL)
    JOIN confirmed USING (member, order_id), params
    WHERE first_review >= window_start
    GROUP BY member
),
-- Visit: 1 point per day with a visit, at most 10 a month; club post: 2 each, at most 10 a month;
-- bonus: the points the event carries.
monthly AS (
    SELECT
        member,
        least(10, count(DISTINCT ts::DATE) FILTER (WHERE type = 'visit')) AS visit,
        least(10, 2 * count(*) FILTER (WHERE type = 'club_post')) AS club_post,
        coalesce(sum(points) FILTER (WHERE type = 'bonus'), 0) AS bonus
    FROM before
    WHERE in_window AND type IN ('visit', 'club_post', 'bonus')
    GROUP BY member, date_trunc('month', ts)
),
activity AS (
    SELECT member, sum(visit) AS visit, sum(club_post) AS club_post, sum(bonus) AS bonus
    FROM monthly
    GROUP BY member
),
totals AS (
    SELECT
        member,
        coalesce(shopping, 0) + coalesce(category_bonus, 0) + coalesce(review, 0)
            + coalesce(visit, 0) + coalesce(club_post, 0) + coalesce(bonus, 0) AS points
    FROM members
    LEFT JOIN shopping USING (member)
    LEFT JOIN reviews USING (member)
    LEFT JOIN activity USING (member)
)
SELECT
    member,
    points::BIGINT AS points,
    CASE
        WHEN points >= 1501 THEN 'Diamond'
        WHEN points >= 800 THEN 'Platinum'
        WHEN points >= 101 THEN 'Gold'
        WHEN points >= 1 THEN 'Silver'
    END AS tier
FROM totals
ORDER BY member
