-- Differential queries (tests/sql/run_diff.py): windowFunnel, retention, sequenceMatch/Count,
-- subqueries, DISTINCT, IN (subquery). ClickHouse 18.16's windowFunnel takes a DateTime or
-- UInt32 timestamp and no modes, so funnels use toDateTime(ts) (seconds) on both sides.

-- name: funnel_scripted
SELECT user_id, windowFunnel(3600)(toDateTime(ts), event = 'product_viewed', event = 'product_added',
       event = 'order_completed') AS lvl
FROM events WHERE user_id LIKE 'f%' GROUP BY user_id ORDER BY user_id

-- name: funnel_distribution
SELECT lvl, count() FROM (SELECT user_id, windowFunnel(86400)(toDateTime(ts), event = 'product_viewed',
       event = 'product_added', event = 'checkout_started', event = 'order_completed') AS lvl
FROM events GROUP BY user_id) GROUP BY lvl ORDER BY lvl

-- name: funnel_overlapping_conditions
-- footfall-only: ClickHouse 18.16 records only the first true condition of a row; modern ClickHouse
-- footfall-only: (api-compat 4.1, and we) records every one, so one row can make two steps
-- expect: [["f01", 3], ["f02", 3], ["f03", 3], ["f04", 3], ["f05", 3], ["f06", 3], ["f07", 3], ["f08", 3], ["f09", 2], ["f10", 2], ["f11", 3], ["f12", 1], ["f13", 3], ["f14", 3]]
SELECT user_id, windowFunnel(60)(toDateTime(ts), event IN ('product_viewed', 'product_added'),
       event = 'product_added', event = 'order_completed')
FROM events WHERE user_id LIKE 'f%' GROUP BY user_id ORDER BY user_id

-- name: funnel_one_step
SELECT user_id, windowFunnel(10)(toDateTime(ts), event = 'order_completed') FROM events
WHERE user_id LIKE 'f%' OR user_id LIKE 'mid%' GROUP BY user_id ORDER BY user_id

-- name: funnel_window_zero
SELECT user_id, windowFunnel(0)(toDateTime(ts), event = 'product_viewed', event = 'product_added')
FROM events WHERE user_id LIKE 'f%' GROUP BY user_id ORDER BY user_id

-- name: funnel_if
SELECT windowFunnelIf(3600)(toDateTime(ts), event = 'product_viewed', event = 'product_added',
       event != 'product_added') AS l, count() FROM events GROUP BY user_id
ORDER BY user_id LIMIT 0
-- ClickHouse 18.16 knows no windowFunnelIf with an extra condition column either way; the
-- LIMIT 0 makes this a parse/type check on both sides

-- name: funnel_modes_strict_order
-- footfall-only: ClickHouse 18.16's windowFunnel has no modes (modern ClickHouse semantics, api-compat 4.1)
-- expect: [["f01", 2], ["f07", 1], ["f14", 1]]
SELECT user_id, windowFunnel(3600, 'strict_order')(toDateTime(ts), event = 'product_viewed',
       event = 'product_added', event = 'order_completed')
FROM events WHERE user_id IN ('f01', 'f07', 'f14') GROUP BY user_id ORDER BY user_id

-- name: funnel_modes_strict_increase
-- footfall-only: ClickHouse 18.16's windowFunnel has no modes (modern ClickHouse semantics, api-compat 4.1)
-- expect: [["f03", 1], ["f13", 2]]
SELECT user_id, windowFunnel(3600, 'strict_increase')(toDateTime(ts), event = 'product_viewed',
       event = 'product_added', event = 'order_completed')
FROM events WHERE user_id IN ('f03', 'f13') GROUP BY user_id ORDER BY user_id

-- name: funnel_modes_strict_once
-- footfall-only: ClickHouse 18.16's windowFunnel has no modes (modern ClickHouse semantics, api-compat 4.1)
-- expect: [["f05", 3], ["f08", 3], ["f12", 1]]
SELECT user_id, windowFunnel(3600, 'strict_once')(toDateTime(ts), event IN ('product_viewed', 'product_added'),
       event = 'product_added', event = 'order_completed')
FROM events WHERE user_id IN ('f05', 'f08', 'f12') GROUP BY user_id ORDER BY user_id

-- name: retention_per_user
SELECT user_id, retention(toDate(ts) = '2024-03-01', toDate(ts) = '2024-03-02', toDate(ts) = '2024-03-04',
       toDate(ts) = '2024-03-08') AS r
FROM events WHERE user_id != '' GROUP BY user_id ORDER BY user_id

-- name: retention_cohort
SELECT sum(r[1]), sum(r[2]), sum(r[3]), sum(r[4]) FROM (SELECT user_id, retention(toDate(ts) = '2024-03-02',
       toDate(ts) = '2024-03-03', toDate(ts) = '2024-03-05', toDate(ts) = '2024-03-09') AS r
FROM events GROUP BY user_id)

-- name: seq_match_basic
SELECT user_id, sequenceMatch('(?1)(?2)')(toDateTime(ts), event = 'product_viewed', event = 'product_added'),
       sequenceMatch('(?1).*(?2)(?3)')(toDateTime(ts), event = 'product_viewed', event = 'product_added',
       event = 'order_completed'),
       sequenceMatch('(?1)(?t<=3600)(?2)')(toDateTime(ts), event = 'product_viewed', event = 'product_added')
FROM events WHERE user_id LIKE 'f%' AND user_id NOT IN ('f03', 'f08', 'f13') GROUP BY user_id ORDER BY user_id

-- name: seq_match_time
SELECT user_id, sequenceMatch('(?1)(?t>3600)(?2)')(toDateTime(ts), event = 'product_viewed', event = 'product_added'),
       sequenceMatch('(?1)(?t<1)(?2)')(toDateTime(ts), event = 'product_viewed', event = 'product_added'),
       sequenceMatch('(?1)(?t>=3600)(?2)')(toDateTime(ts), event = 'product_viewed', event = 'product_added')
FROM events WHERE user_id LIKE 'f%' AND user_id NOT IN ('f03', 'f08', 'f13') GROUP BY user_id ORDER BY user_id

-- name: seq_match_dot
SELECT user_id, sequenceMatch('(?1).(?2)')(toDateTime(ts), event = 'product_viewed', event = 'product_added'),
       sequenceMatch('(?2).*(?1)')(toDateTime(ts), event = 'product_viewed', event = 'product_added')
FROM events WHERE user_id LIKE 'f%' AND user_id NOT IN ('f03', 'f08', 'f13') GROUP BY user_id ORDER BY user_id

-- name: seq_count
SELECT user_id, sequenceCount('(?1)(?2)')(toDateTime(ts), event = 'product_viewed', event = 'product_added'),
       sequenceCount('(?1).*(?2)')(toDateTime(ts), event = 'product_viewed', event = 'order_completed'),
       sequenceCount('(?1)')(toDateTime(ts), event = 'page_viewed', event = 'product_viewed')
FROM events WHERE user_id != '' GROUP BY user_id ORDER BY user_id

-- name: sub_from_alias
SELECT avg(c), max(c), count() FROM (SELECT user_id, count() AS c FROM events GROUP BY user_id) AS t

-- name: sub_from_filter
SELECT t.country, t.n FROM (SELECT country, uniqExact(user_id) AS n FROM events GROUP BY country) t
WHERE t.n > 5 ORDER BY t.n DESC, t.country

-- name: sub_nested
SELECT lvl, count() AS users FROM (SELECT user_id, max(c) AS lvl FROM (SELECT user_id, toDate(ts) AS d,
       count() AS c FROM events GROUP BY user_id, d) GROUP BY user_id) GROUP BY lvl ORDER BY lvl

-- name: distinct_one
SELECT DISTINCT country FROM events ORDER BY country

-- name: distinct_many
SELECT DISTINCT event, device FROM events WHERE event != 'page_viewed'

-- name: distinct_limit
SELECT DISTINCT toDate(ts) AS d FROM events ORDER BY d DESC LIMIT 3

-- name: distinct_expr_where
SELECT DISTINCT user_id FROM events WHERE event = 'order_completed' AND user_id != '' ORDER BY user_id

-- name: in_subquery
SELECT count(), uniqExact(user_id) FROM events
WHERE user_id IN (SELECT user_id FROM events WHERE event = 'order_completed')

-- name: not_in_subquery
SELECT event, count() FROM events
WHERE user_id NOT IN (SELECT user_id FROM events WHERE event = 'payment_failed' AND user_id != '')
GROUP BY event ORDER BY event

-- name: in_subquery_grouped
SELECT user_id, count() FROM events
WHERE user_id IN (SELECT user_id FROM events GROUP BY user_id HAVING count() > 45)
GROUP BY user_id ORDER BY user_id

-- name: in_subquery_in_select
SELECT user_id IN (SELECT user_id FROM events WHERE country = 'JP') AS jp, count() FROM events
GROUP BY jp ORDER BY jp
