-- Differential queries (tests/sql/run_diff.py) over the Taobao slice and the 43-user history
-- (../shared/data; skipped when absent).

-- name: tb_count_by_event
-- data: taobao
SELECT event, event_original, count() FROM events GROUP BY event, event_original ORDER BY event

-- name: tb_uniq_users
-- data: taobao
-- approx: 0=0.05
SELECT uniq(user_id), uniqExact(user_id), uniqExact(user_id, product_id), uniqExact(category) FROM events

-- name: tb_per_hour
-- data: taobao
-- approx: 2=0.05
SELECT toStartOfHour(ts) AS h, count(), uniq(user_id), uniqExact(user_id) FROM events
WHERE ts >= '2017-11-26 00:00:00' AND ts < '2017-11-27 00:00:00' GROUP BY h ORDER BY h

-- name: tb_top_categories
-- data: taobao
SELECT category, count() AS c, uniqExact(user_id) AS u FROM events GROUP BY category
ORDER BY c DESC, category LIMIT 10

-- name: tb_topk_event
-- data: taobao
SELECT topK(4)(event) FROM events

-- name: tb_per_minute
-- data: taobao
SELECT toStartOfMinute(ts) AS m, countIf(event = 'order_completed'), count() FROM events
WHERE toDate(ts) = '2017-11-26' GROUP BY m ORDER BY m DESC LIMIT 20 OFFSET 5

-- name: tb_funnel
-- data: taobao
SELECT lvl, count() FROM (SELECT user_id, windowFunnel(1800)(toDateTime(ts), event = 'product_viewed',
       event = 'product_added', event = 'order_completed') AS lvl FROM events GROUP BY user_id)
GROUP BY lvl ORDER BY lvl
-- clickhouse: SELECT lvl, count() FROM (SELECT user_id, windowFunnel(7202)(toUInt32((toUnixTimestamp(ts) - 1500000000) * 4 +
-- clickhouse:   multiIf(event = 'product_viewed', 0, event = 'product_added', 1, 2)), event = 'product_viewed',
-- clickhouse:   event = 'product_added', event = 'order_completed') AS lvl FROM events GROUP BY user_id)
-- clickhouse: GROUP BY lvl ORDER BY lvl
-- why: ClickHouse 18.16 sorts a funnel's events by time only (same-second steps stay in row order);
-- why: modern ClickHouse (and we) sort by (time, step). Time * 4 + step index gives the oracle that
-- why: order; the window becomes 1800 * 4 + 2 (a step k needs 4 * dt + (k - 1) <= window). The
-- why: offset keeps the value below 2^31, where 18.16's windowFunnel misbehaves

-- name: tb_funnel_by_category
-- data: taobao
SELECT category, sum(lvl >= 1), sum(lvl >= 2) FROM (SELECT user_id, category,
       windowFunnel(3600)(toDateTime(ts), event = 'product_viewed', event = 'product_added') AS lvl
FROM events WHERE category IN ('4756105', '4145813', '2355072') GROUP BY user_id, category)
GROUP BY category ORDER BY category
-- clickhouse: SELECT category, sum(lvl >= 1), sum(lvl >= 2) FROM (SELECT user_id, category,
-- clickhouse:   windowFunnel(7201)(toUInt32((toUnixTimestamp(ts) - 1500000000) * 2 + (event = 'product_added')),
-- clickhouse:   event = 'product_viewed', event = 'product_added') AS lvl
-- clickhouse: FROM events WHERE category IN ('4756105', '4145813', '2355072') GROUP BY user_id, category)
-- clickhouse: GROUP BY category ORDER BY category
-- why: as tb_funnel: the oracle's timestamp time * 2 + step index orders same-second steps by step

-- name: tb_retention_users
-- data: taobao
SELECT sum(r[1]), sum(r[2]), sum(r[3]), sum(r[4]) FROM (SELECT user_id,
       retention(toDate(ts) = '2017-11-25', toDate(ts) = '2017-11-26', toDate(ts) = '2017-11-28',
       toDate(ts) = '2017-12-02') AS r FROM events GROUP BY user_id)

-- name: tb_daily_active
-- data: taobao
SELECT toDate(ts) AS d, uniqExact(user_id), count() FROM events GROUP BY d ORDER BY d

-- name: tb_heavy_users
-- data: taobao
SELECT user_id, count() AS c, countIf(event = 'order_completed') AS buys FROM events
GROUP BY user_id HAVING c >= 150 ORDER BY c DESC, user_id

-- name: tb_seq_count
-- data: taobao
SELECT sum(n), countIf(n > 0) FROM (SELECT user_id, sequenceCount('(?1)(?t<=600)(?2)')(toDateTime(ts),
       event = 'product_viewed', event = 'product_added') AS n FROM events GROUP BY user_id)

-- name: tb_quantile_buys
-- data: taobao
SELECT quantile(0.5)(toUnixTimestamp(ts)), quantiles(0.1, 0.9)(toUnixTimestamp(ts)), count() FROM events
WHERE event = 'order_completed'

-- name: tb_distinct_in
-- data: taobao
SELECT count() FROM (SELECT DISTINCT user_id FROM events
WHERE user_id IN (SELECT user_id FROM events WHERE event = 'order_completed') AND event = 'product_added')

-- name: tb_week_dow
-- data: taobao
SELECT toDayOfWeek(ts) AS dow, toMonday(ts) AS w, count() FROM events GROUP BY dow, w ORDER BY w, dow
