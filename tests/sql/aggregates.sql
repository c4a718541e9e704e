-- Differential queries (tests/sql/run_diff.py): aggregates, NULLs, filters, HAVING, ORDER BY.
-- Format: `-- name:` starts a query; see run_diff.py's header for the directives.

-- name: agg_count_all
SELECT count(), count(*), count(price), count(quantity), count(revenue) FROM events

-- name: agg_count_by_event
SELECT event, count() AS c FROM events GROUP BY event ORDER BY event

-- name: agg_countif
SELECT countIf(event = 'order_completed'), countIf(price IS NULL), countIf(user_id = ''),
       countIf(anonymous_id = '' AND user_id = '') FROM events

-- name: agg_sum_decimal
SELECT sum(price), sumIf(price, currency = 'USD'), sum(revenue), sum(quantity) FROM events

-- name: agg_sum_by_currency
SELECT currency, sum(revenue) AS r, count(revenue), count(), sum(price) FROM events
GROUP BY currency ORDER BY currency

-- name: agg_avg
SELECT avg(quantity), avg(toFloat64(price)), avgIf(quantity, device = 'mobile') FROM events

-- name: agg_avg_decimal
-- approx: 0=1e-4,1=1e-4
SELECT avg(price), avg(revenue) FROM events
-- why: ClickHouse 18.16's avg(Decimal) is Decimal(38, 4), cut to 4 digits; ours is Float64

-- name: agg_min_max
SELECT min(price), max(price), min(ts), max(ts), min(user_id), max(user_id), min(quantity),
       max(revenue) FROM events

-- name: agg_min_max_by_country
SELECT country, min(price), max(price), max(revenue), min(event) FROM events
GROUP BY country ORDER BY country

-- name: agg_arg_min_max
SELECT user_id, argMin(event, ts), argMax(event, ts), argMax(price, ts), argMin(ts, ts)
FROM events
WHERE user_id IN ('f01', 'f02', 'f04', 'f05', 'f06', 'f07', 'f09', 'f10', 'f11', 'f14')
GROUP BY user_id ORDER BY user_id

-- name: agg_any_deterministic
SELECT user_id, any(currency), anyLast(country), any(device) FROM events
WHERE user_id IN ('f01', 'f03') GROUP BY user_id ORDER BY user_id

-- name: agg_uniq
-- approx: 0=0.05,2=0.05
SELECT uniq(user_id), uniqExact(user_id), uniq(anonymous_id), uniqExact(anonymous_id),
       uniqExact(user_id, session_id), count(DISTINCT country) FROM events

-- name: agg_uniq_by_day
-- approx: 1=0.05,3=0.05
SELECT toDate(ts) AS d, uniq(user_id), uniqExact(user_id), uniqIf(user_id, event = 'page_viewed')
FROM events GROUP BY d ORDER BY d

-- name: agg_quantile
SELECT quantile(0.5)(quantity), quantile(0.9)(toFloat64(price)), quantile(toUnixTimestamp(ts)),
       quantiles(0.1, 0.5, 0.99)(toFloat64(revenue)) FROM events

-- name: agg_quantile_by_event
SELECT event, quantile(0.25)(toUnixTimestamp(ts)), quantile(0.75)(quantity) FROM events
GROUP BY event ORDER BY event

-- name: agg_topk
SELECT topK(3)(device), topK(2)(event) FROM events WHERE ts < '2024-03-04 00:00:00'

-- name: agg_having
SELECT user_id, count() AS c FROM events GROUP BY user_id HAVING c > 40 ORDER BY c DESC, user_id

-- name: agg_having_expr
SELECT country, sum(price) AS s FROM events GROUP BY country
HAVING s > 100 AND count() > 10 ORDER BY s DESC

-- name: agg_order_limit_offset
SELECT user_id, count() AS c FROM events GROUP BY user_id ORDER BY c DESC, user_id
LIMIT 5 OFFSET 3

-- name: agg_limit_comma
SELECT event, count() AS c FROM events GROUP BY event ORDER BY c, event LIMIT 2, 3

-- name: agg_order_nulls
SELECT event_id, price FROM events WHERE user_id = 'u003' ORDER BY price DESC NULLS FIRST, event_id LIMIT 12

-- name: agg_order_nulls_last
SELECT event_id, price FROM events WHERE user_id = 'u004' ORDER BY price, event_id LIMIT 30

-- name: null_group_key
SELECT price IS NULL AS n, isNotNull(revenue) AS r, count() FROM events GROUP BY n, r ORDER BY n, r

-- name: null_arith
SELECT sum(price * 2), sum(price + 1), sum(price - quantity), countIf(price > 10),
       countIf(NOT (price > 10)), countIf(isNull(price + quantity)) FROM events

-- name: null_coalesce
SELECT sum(ifNull(quantity, 0)), countIf(coalesce(revenue, price) IS NULL), countIf(coalesce(quantity, 0) = 0),
       sum(coalesce(quantity, 2)), countIf(ifNull(revenue, price) > 50)
FROM events

-- name: null_three_valued
SELECT countIf(price > 10 OR quantity > 1), countIf(price > 10 AND quantity > 1),
       countIf(price > 10 AND quantity IS NULL) FROM events

-- name: null_three_valued_or
SELECT countIf(NOT (price > 10 OR quantity IS NULL)), countIf(NOT (ifNull(price > 10, 0) OR quantity IS NULL)) FROM events
-- clickhouse: SELECT countIf(isNotNull(price) AND ifNull(price <= 10, 0) AND isNotNull(quantity)),
-- clickhouse:        countIf(NOT (ifNull(price > 10, 0) OR quantity IS NULL)) FROM events
-- why: ClickHouse 18.16 evaluates NULL OR 0 as 0; since 21.x it is NULL (three-valued logic, what we
-- why: implement), so NOT (NULL OR 0) is NULL and the row is not counted: the oracle spells that out

-- name: cond_multiif
SELECT multiIf(price IS NULL, 'none', price < 10, 'cheap', 'dear') AS b, count() FROM events
GROUP BY b ORDER BY b

-- name: cond_if
SELECT if(ifNull(quantity, 0) > 1, 'many', 'one') AS k, sum(if(quantity > 1, quantity, 0)) FROM events
WHERE event = 'product_added' GROUP BY k ORDER BY k

-- name: cond_if_null_condition
SELECT if(quantity > 1, 'many', 'one') AS k, count() FROM events WHERE event = 'product_added'
GROUP BY k ORDER BY k
-- clickhouse: SELECT if(ifNull(quantity > 1, 0), 'many', 'one') AS k, count() FROM events
-- clickhouse: WHERE event = 'product_added' GROUP BY k ORDER BY k
-- why: ClickHouse 18.16's if() with a NULL condition returns NULL; modern ClickHouse (and we) take
-- why: the else branch, which ifNull(cond, 0) spells out

-- name: cond_case
SELECT CASE WHEN country = 'US' THEN 'america' WHEN country IN ('DE', 'FR') THEN 'europe'
       ELSE 'other' END AS region, count() FROM events GROUP BY region ORDER BY region

-- name: cond_case_expr
SELECT CASE country WHEN 'US' THEN 1 WHEN 'DE' THEN 2 ELSE 0 END AS k, count() FROM events
GROUP BY k ORDER BY k

-- name: filter_between
SELECT countIf(price BETWEEN 1 AND 100), countIf(price NOT BETWEEN 1 AND 100),
       countIf(ts BETWEEN '2024-03-02 00:00:00' AND '2024-03-03 00:00:00') FROM events
-- clickhouse: SELECT countIf(price BETWEEN 1 AND 100), countIf(NOT (price BETWEEN 1 AND 100)),
-- clickhouse:        countIf(ts BETWEEN '2024-03-02 00:00:00' AND '2024-03-03 00:00:00') FROM events
-- why: ClickHouse 18.16 cannot parse NOT BETWEEN

-- name: filter_in_list
SELECT country, count() FROM events WHERE country IN ('US', 'DE', '') AND event NOT IN ('page_viewed')
GROUP BY country ORDER BY country

-- name: filter_in_numbers
SELECT count() FROM events WHERE quantity IN (1, 3) OR price IN (19.99, 100)
-- clickhouse: SELECT count() FROM events WHERE quantity IN (1, 3) OR toFloat64(price) IN (19.99, 100)
-- why: ClickHouse 18.16 rejects Float64 literals in IN against a Decimal column

-- name: filter_like
SELECT countIf(url LIKE '%/product/%'), countIf(url NOT LIKE '%ref=1'), countIf(search_term LIKE '\\%%'),
       countIf(search_term LIKE 'a\\_b'), countIf(search_term LIKE '_at'), countIf(search_term LIKE '%Shoes')
FROM events

-- name: filter_ilike
SELECT countIf(search_term ILIKE '%shoes%'), countIf(search_term NOT ILIKE 'RED%') FROM events
-- clickhouse: SELECT countIf(lower(search_term) LIKE '%shoes%'), countIf(NOT (lower(search_term) LIKE 'red%')) FROM events
-- why: ClickHouse 18.16 has no ILIKE; lower() LIKE lower-case pattern is the same for ASCII

-- name: filter_where_prune_ts
SELECT count(), min(ts), max(ts) FROM events
WHERE ts >= '2024-03-03 00:00:00' AND ts < '2024-03-05 00:00:00' AND event = 'page_viewed'

-- name: filter_not_equals
SELECT count() FROM events WHERE country != 'US' AND user_id <> '' AND price != 100

-- name: arith_int
SELECT sum(quantity * 3 - 1), sum(intDiv(quantity, 2)), sum(quantity % 2), sum(-quantity),
       sum(quantity / 4) FROM events

-- name: filter_tuple_in
SELECT countIf((country, device) IN (('US', 'desktop'), ('DE', 'mobile'))),
       countIf((country, device) IN (('US', 'desktop'))),
       countIf((country, device) NOT IN (('US', 'desktop'), ('DE', 'mobile'))) FROM events

-- name: misc_group_array_now
SELECT length(groupArray(price)), length(groupArray(event)), today() = toDate(now()),
       toYear(now()) >= 2024, isNull(NULL), isNotNull(price) FROM events WHERE user_id = 'u005'
GROUP BY isNotNull(price) ORDER BY isNotNull(price)

-- name: misc_unix64
-- footfall-only: ClickHouse 18.16 has no DateTime64 nor toUnixTimestamp64Milli/fromUnixTimestamp64Milli
-- expect: [[1709251199000, "2024-03-01 00:00:00.123", 1709251200123]]
SELECT toUnixTimestamp64Milli(min(ts)), fromUnixTimestamp64Milli(1709251200123),
       toUnixTimestamp64Milli(fromUnixTimestamp64Milli(1709251200123)) FROM events
