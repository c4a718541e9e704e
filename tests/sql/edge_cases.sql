-- Differential queries (tests/sql/run_diff.py): arithmetic and aggregation edge cases.

-- name: edge_empty_aggregates
SELECT count(), sum(quantity), avg(quantity), min(price), max(ts), uniqExact(user_id), countIf(price > 0)
FROM events WHERE user_id = 'nobody'
-- clickhouse: SELECT count(), sum(quantity), avg(quantity), min(price), max(ts), uniqExact(user_id),
-- clickhouse:        countIf(ifNull(price > 0, 0)) FROM events WHERE user_id = 'nobody'
-- why: ClickHouse 18.16's countIf over a Nullable condition and no rows is NULL; modern ClickHouse
-- why: (and we) give 0. The max of no DateTime rows prints as 0000-00-00 00:00:00 in 18.16

-- name: edge_empty_group_by
SELECT user_id, count() FROM events WHERE user_id = 'nobody' GROUP BY user_id

-- name: edge_int_division
SELECT intDiv(-7, 2), -7 % 3, 7 % -3, intDiv(quantity - 5, 2), (quantity - 5) % 2, count() FROM events
WHERE quantity IS NOT NULL GROUP BY quantity ORDER BY quantity

-- name: edge_ratio
-- approx: 1=1e-6
-- why: Decimal / integer is Float64 here, Decimal(38, 4) (cut, not rounded) in ClickHouse: documented
SELECT event, round(sum(price) / count(), 4) AS r, countIf(price IS NULL) / count() FROM events
GROUP BY event ORDER BY event

-- name: edge_date_arith
SELECT toDate(ts) - 1 AS d, toDate(ts) + 7, toDate(ts) - toDate('2024-03-01'), count() FROM events
GROUP BY d, toDate(ts) + 7, toDate(ts) - toDate('2024-03-01') ORDER BY d

-- name: edge_string_order
SELECT user_id, min(event), max(search_term), count() FROM events GROUP BY user_id ORDER BY user_id DESC LIMIT 15

-- name: edge_big_offset
SELECT event FROM events ORDER BY event_id LIMIT 5 OFFSET 100000

-- name: edge_order_desc_limit
SELECT event_id, ts FROM events ORDER BY ts DESC, event_id DESC LIMIT 7

-- name: edge_having_alias_agg
SELECT country, count() AS c, uniqExact(user_id) AS u FROM events GROUP BY country HAVING c / u > 20 ORDER BY country

-- name: edge_where_or
SELECT count() FROM events WHERE (country = 'US' OR device = 'tablet') AND NOT (event = 'page_viewed')

-- name: edge_quantile_date
SELECT quantile(0.5)(toDate(ts)), min(toDate(ts)), max(toStartOfHour(ts)) FROM events

-- name: edge_sum_int
SELECT sum(quantity * 1000000000000), sum(toUInt64(quantity)), max(quantity * -1), min(-quantity) FROM events

-- name: edge_count_nullable_expr
SELECT count(price + quantity), count(DISTINCT price), uniqExact(price), countIf(price + quantity > 10) FROM events

-- name: edge_string_compare
SELECT countIf(user_id > 'u030'), countIf(user_id < 'f'), countIf(event >= 'p'), countIf(search_term = 'Red Shoes') FROM events

-- name: edge_length_unicode
SELECT length('héllo'), lower('ÀB'), upper('àb'), substring('héllo', 2, 2), position('héllo', 'l')

-- name: edge_float_literal
SELECT 1 / 3, 2.5 * 2, 0.1 + 0.2, 1e3, -0.5, 10 / 4

-- name: edge_subquery_order_limit
SELECT u, c FROM (SELECT user_id AS u, count() AS c FROM events GROUP BY u ORDER BY c DESC, u LIMIT 5)
ORDER BY u

-- name: edge_multiple_aggs_same
SELECT sum(quantity), sum(quantity) + 1, count() * 2, avg(quantity) * count() FROM events

-- name: edge_retention_single
SELECT retention(event = 'page_viewed', event = 'nothing'), retention(event = 'nothing', event = 'page_viewed') FROM events

-- name: edge_uniq_tuple_nullable
SELECT uniqExact(user_id, price), uniqExact(price, quantity), count(DISTINCT quantity) FROM events

-- name: edge_time_boundaries
SELECT ts, toStartOfHour(ts), toStartOfMinute(ts + INTERVAL 59 SECOND), toMonday(ts - INTERVAL 1 SECOND),
       toStartOfMonth(ts - INTERVAL 1 DAY), dateDiff('day', ts - INTERVAL 1 SECOND, ts),
       dateDiff('week', toMonday(ts) - 1, toMonday(ts)), dateDiff('month', toStartOfMonth(ts) - 1, ts),
       dateDiff('hour', ts, ts + INTERVAL 59 MINUTE)
FROM events WHERE user_id IN ('mid0', 'mid1') ORDER BY ts

-- name: edge_month_clamp
SELECT toDate('2024-01-31') + INTERVAL 1 MONTH, toDate('2024-03-31') - INTERVAL 1 MONTH,
       toDate('2024-02-29') + INTERVAL 1 YEAR, toDateTime('2024-01-31 10:00:00') + INTERVAL 1 MONTH,
       toDate('2023-12-31') + INTERVAL 2 MONTH

-- name: edge_week_days
SELECT toDate(ts) AS d, toDayOfWeek(d), toMonday(d), toDayOfMonth(d), dateDiff('week', toDate('2024-03-03'), d),
       dateDiff('week', toDate('2024-03-04'), d), count() FROM events GROUP BY d ORDER BY d

-- name: edge_tb_hour_dow
-- data: taobao
SELECT toHour(ts) AS h, toDayOfWeek(ts) AS w, count(), uniqExact(user_id) FROM events
WHERE ts < '2017-11-27 00:00:00' GROUP BY h, w ORDER BY h, w

-- name: edge_tb_multi_key
-- data: taobao
SELECT event, toStartOfHour(ts) AS h, count() AS c FROM events
WHERE ts >= '2017-11-26 01:00:00' GROUP BY event, h ORDER BY h DESC, c DESC, event LIMIT 12

-- name: edge_tb_string_funcs
-- data: taobao
SELECT substring(category, 1, 2) AS p, length(product_id) AS l, count() FROM events
WHERE startsWith(category, '1') AND endsWith(product_id, '7') GROUP BY p, l ORDER BY p, l

-- name: edge_tb_in_big_subquery
-- data: taobao
SELECT event, count() FROM events WHERE user_id IN (SELECT user_id FROM events WHERE event = 'product_added')
AND product_id NOT IN (SELECT product_id FROM events WHERE event = 'order_completed') GROUP BY event ORDER BY event

-- name: edge_tb_distinct_pairs
-- data: taobao
SELECT count() FROM (SELECT DISTINCT user_id, category FROM events WHERE event != 'product_viewed')
