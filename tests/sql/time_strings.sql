-- Differential queries (tests/sql/run_diff.py): time, string, JSON and conversion functions.

-- name: time_to_date
SELECT toDate(ts) AS d, count() FROM events GROUP BY d ORDER BY d

-- name: time_start_of_hour
SELECT toStartOfHour(ts) AS h, count() FROM events WHERE toDate(ts) = '2024-03-03' GROUP BY h ORDER BY h

-- name: time_parts
SELECT ts, toDate(ts), toStartOfDay(ts), toStartOfMonth(ts), toMonday(ts), toStartOfMinute(ts),
       toHour(ts), toDayOfWeek(ts), toDayOfMonth(ts), toMonth(ts), toYear(ts), toUnixTimestamp(ts)
FROM events WHERE user_id IN ('mid0', 'mid1', 'mid2') ORDER BY ts

-- name: time_start_of_week
SELECT toStartOfWeek(ts) AS w, toStartOfWeek(ts, 1) AS w1, count() FROM events GROUP BY w, w1 ORDER BY w, w1
-- clickhouse: SELECT toMonday(toDate(ts) + 1) - 1 AS w, toMonday(ts) AS w1, count() FROM events
-- clickhouse: GROUP BY w, w1 ORDER BY w, w1
-- why: ClickHouse 18.16 has no toStartOfWeek; mode 0 (Sunday) is the Monday of the next day minus one

-- name: time_interval
SELECT ts, ts + INTERVAL 90 MINUTE, ts - INTERVAL 1 DAY, toDate(ts) + INTERVAL 1 MONTH,
       toDate(ts) - INTERVAL 1 YEAR, ts + INTERVAL 2 WEEK, toDate(ts) + INTERVAL 1 QUARTER
FROM events WHERE user_id = 'mid2' ORDER BY ts
-- clickhouse: SELECT ts, ts + INTERVAL 90 MINUTE, ts - INTERVAL 1 DAY, toDate(ts) + INTERVAL 1 MONTH,
-- clickhouse:        toDate(ts) - INTERVAL 1 YEAR, ts + INTERVAL 2 WEEK, toDate(ts) + INTERVAL 3 MONTH
-- clickhouse: FROM events WHERE user_id = 'mid2' ORDER BY ts
-- why: ClickHouse 18.16 has no INTERVAL n QUARTER (3 MONTH is the same)

-- name: time_interval_filter
SELECT count() FROM events
WHERE ts >= toDateTime('2024-03-01 00:00:00') + INTERVAL 3 DAY
  AND ts < toDateTime('2024-03-01 00:00:00') + INTERVAL 1 WEEK

-- name: time_date_diff
SELECT user_id, dateDiff('second', min(ts), max(ts)), dateDiff('minute', min(ts), max(ts)),
       dateDiff('hour', min(ts), max(ts)), dateDiff('day', min(ts), max(ts)),
       dateDiff('week', min(ts), max(ts)), dateDiff('month', min(ts), max(ts)),
       dateDiff('year', min(ts), max(ts))
FROM events WHERE user_id != '' GROUP BY user_id ORDER BY user_id

-- name: time_date_diff_dates
SELECT dateDiff('day', toDate('2024-02-27'), toDate(ts)), dateDiff('week', toDate('2024-03-02'), toDate(ts)),
       dateDiff('quarter', toDate('2023-12-31'), toDate(ts)), count()
FROM events GROUP BY toDate(ts) ORDER BY toDate(ts)

-- name: time_compare_string
SELECT countIf(ts < '2024-03-02 12:00:00'), countIf(toDate(ts) = '2024-03-05'),
       countIf(toDate(ts) >= '2024-03-06'), countIf(toStartOfHour(ts) = '2024-03-03 10:00:00') FROM events

-- name: time_unix
SELECT sum(toUnixTimestamp(ts)), min(toUnixTimestamp(ts)), max(toUnixTimestamp(ts)) FROM events

-- name: time_to_datetime
SELECT toDateTime(ts), toString(toDateTime(ts)), toDate(toUnixTimestamp(ts) / 86400 + 0) FROM events
WHERE user_id = 'mid0' ORDER BY ts
-- clickhouse: SELECT toDateTime(ts), toString(toDateTime(ts)), toDate(toUInt16(toUnixTimestamp(ts) / 86400)) FROM events
-- clickhouse: WHERE user_id = 'mid0' ORDER BY ts
-- why: ClickHouse 18.16's toDate(Float64) is not a day number; toUInt16 makes it one

-- name: str_case_length
SELECT search_term, lower(search_term), upper(search_term), length(search_term), count() FROM events
WHERE search_term != '' GROUP BY search_term ORDER BY search_term

-- name: str_prefix_suffix
SELECT countIf(startsWith(url, 'https://shop.example/product')), countIf(endsWith(url, '=2')),
       countIf(empty(product_id)), countIf(notEmpty(order_id)) FROM events

-- name: str_substring_position
SELECT substring(url, 22, 7) AS s, substring(url, -5), substring(url, 9), position(url, 'ref='),
       position(url, 'zzz'), count() FROM events WHERE user_id = 'u001'
GROUP BY s, substring(url, -5), substring(url, 9), position(url, 'ref='), position(url, 'zzz')
ORDER BY s, substring(url, -5), substring(url, 9)

-- name: str_concat
SELECT concat(user_id, '/', country) AS k, user_id || '-' || device, count() FROM events
WHERE user_id LIKE 'f0%' GROUP BY k, user_id || '-' || device ORDER BY k

-- name: str_to_string
SELECT toString(price), toString(quantity), toString(ts), toString(toDate(ts)), count() FROM events
WHERE user_id = 'u002' GROUP BY toString(price), toString(quantity), toString(ts), toString(toDate(ts))
ORDER BY toString(ts)

-- name: json_extract
SELECT JSONExtractString(properties, 'plan') AS plan, sum(JSONExtractInt(properties, 'n')),
       sum(JSONExtractFloat(properties, 'score')), countIf(JSONHas(properties, 'flag')),
       countIf(JSONExtractBool(properties, 'flag')), count()
FROM events GROUP BY plan ORDER BY plan
-- clickhouse: SELECT visitParamExtractString(properties, 'plan') AS plan, sum(visitParamExtractInt(properties, 'n')),
-- clickhouse:        sum(visitParamExtractFloat(properties, 'score')), countIf(visitParamHas(properties, 'flag')),
-- clickhouse:        countIf(visitParamExtractBool(properties, 'flag')), count()
-- clickhouse: FROM events GROUP BY plan ORDER BY plan
-- why: ClickHouse 18.16 has no JSONExtract*; its visitParamExtract* read the same top-level keys of
-- why: our flat properties objects

-- name: json_extract_raw
SELECT JSONExtractRaw(properties, 'n') AS r, JSONExtractRaw(properties, 'plan'), count() FROM events
WHERE JSONHas(properties, 'n') OR JSONHas(properties, 'plan')
GROUP BY r, JSONExtractRaw(properties, 'plan') ORDER BY r, JSONExtractRaw(properties, 'plan')
-- clickhouse: SELECT visitParamExtractRaw(properties, 'n') AS r, visitParamExtractRaw(properties, 'plan'), count() FROM events
-- clickhouse: WHERE visitParamHas(properties, 'n') OR visitParamHas(properties, 'plan')
-- clickhouse: GROUP BY r, visitParamExtractRaw(properties, 'plan') ORDER BY r, visitParamExtractRaw(properties, 'plan')
-- why: ClickHouse 18.16 has no JSONExtractRaw; visitParamExtractRaw is the same on flat objects

-- name: conv_numbers
SELECT toInt64(quantity), toUInt64(quantity), toFloat64(price), toInt64(toFloat64(price)), count() FROM events
WHERE price IS NOT NULL AND quantity IS NOT NULL
GROUP BY toInt64(quantity), toUInt64(quantity), toFloat64(price), toInt64(toFloat64(price))
ORDER BY toFloat64(price), toInt64(quantity)

-- name: conv_round
SELECT toFloat64(price) AS p, round(p, 1), floor(p), ceil(p), round(p), abs(-p), round(p * 3, 2)
FROM events WHERE price IS NOT NULL AND toFloat64(price) NOT IN (0.5, 7.25) GROUP BY p ORDER BY p

-- name: conv_round_half_even
-- footfall-only: ClickHouse 18.16 rounds float halves away from zero; modern ClickHouse (and we)
-- footfall-only: round Float64 halves to even (banker's rounding)
-- expect: [[0.5, 0, 0.5, 7.2], [7.25, 7, 7.2, 7.2]]
SELECT toFloat64(price) AS p, round(p), round(p, 1), round(7.25, 1) FROM events
WHERE toFloat64(price) IN (0.5, 7.25) GROUP BY p ORDER BY p

-- name: conv_greatest_least
SELECT greatest(quantity, 2), least(quantity, 2), count() FROM events WHERE quantity IS NOT NULL
GROUP BY greatest(quantity, 2), least(quantity, 2) ORDER BY greatest(quantity, 2), least(quantity, 2)

-- name: array_has_element
SELECT has([1, 3], quantity), [10, 20, 30][quantity], count() FROM events WHERE quantity IS NOT NULL
GROUP BY has([1, 3], quantity), [10, 20, 30][quantity] ORDER BY has([1, 3], quantity), [10, 20, 30][quantity]
