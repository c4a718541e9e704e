-- Differential queries (tests/sql/run_diff.py): time functions with a time zone argument.
-- The generated data is 2024-03-01..08 UTC: local days of these zones straddle UTC days, and
-- the constant queries cross DST changes (Berlin 2026-03-29 / 2026-10-25, New York 2024-11-03).
-- INTERVAL arithmetic on zoned DateTimes adds days and months in local time: the data's New York
-- days cross 2024-03-10 (and + 2 DAY lands some rows in its skipped hour), its Berlin months
-- cross 2024-03-31. (18.16 has no INTERVAL n QUARTER; the unit tests cover quarters.)

-- name: tz_group_local_day
SELECT toDate(ts, 'America/New_York') AS d, count(), uniqExact(user_id) FROM events GROUP BY d ORDER BY d

-- name: tz_group_start_of_day
SELECT toStartOfDay(ts, 'Asia/Tokyo') AS d, event, count() FROM events GROUP BY d, event ORDER BY d, event

-- name: tz_group_hour_fractional
SELECT toStartOfHour(ts, 'Asia/Kathmandu') AS h, count() FROM events GROUP BY h ORDER BY h

-- name: tz_parts_of_time
SELECT toHour(ts, 'Australia/Lord_Howe') AS h, toDayOfWeek(ts, 'Pacific/Apia') AS w,
       toDayOfMonth(ts, 'Asia/Tokyo') AS dm, toMonth(ts, 'Pacific/Apia') AS m,
       toYear(ts, 'Pacific/Apia') AS y, count()
FROM events GROUP BY h, w, dm, m, y ORDER BY h, w, dm, m, y

-- name: tz_weeks_months
SELECT toMonday(ts, 'America/Sao_Paulo') AS wk, toStartOfMonth(ts, 'Pacific/Apia') AS mo,
       toStartOfDay(ts, 'Africa/Casablanca') AS d, count()
FROM events GROUP BY wk, mo, d ORDER BY wk, mo, d

-- name: tz_datetime_text
SELECT toDateTime(ts, 'Asia/Kathmandu'), toString(toDateTime(ts), 'Europe/Berlin'),
       toStartOfMinute(ts, 'Asia/Kolkata'), toUnixTimestamp(toStartOfDay(ts, 'America/St_Johns')),
       toHour(toDateTime(ts, 'Asia/Kathmandu'))
FROM events ORDER BY ts, event_id LIMIT 25

-- name: tz_date_diff
SELECT dateDiff('day', ts, toDateTime('2024-03-10 12:00:00'), 'Asia/Tokyo') AS dd,
       dateDiff('week', ts, toDateTime('2024-03-10 12:00:00'), 'America/New_York') AS dw, count()
FROM events GROUP BY dd, dw ORDER BY dd, dw

-- name: tz_dst_berlin
SELECT toDate(toDateTime('2026-03-28 23:30:00'), 'Europe/Berlin'),
       toStartOfDay(toDateTime('2026-03-29 12:00:00'), 'Europe/Berlin'),
       toUnixTimestamp(toStartOfDay(toDateTime('2026-03-29 12:00:00'), 'Europe/Berlin')),
       toHour(toDateTime('2026-03-29 00:59:59'), 'Europe/Berlin'),
       toHour(toDateTime('2026-03-29 01:00:00'), 'Europe/Berlin'),
       toStartOfHour(toDateTime('2026-03-29 01:30:00'), 'Europe/Berlin'),
       toString(toDateTime('2026-10-25 00:30:00'), 'Europe/Berlin'),
       toString(toDateTime('2026-10-25 01:30:00'), 'Europe/Berlin'),
       toUnixTimestamp(toStartOfDay(toDateTime('2026-10-25 12:00:00'), 'Europe/Berlin'))

-- name: tz_dst_new_york_parse
SELECT toUnixTimestamp(toDateTime('2024-11-03 01:30:00', 'America/New_York')),
       toUnixTimestamp(toDateTime('2024-03-10 02:30:00', 'America/New_York')),
       toUnixTimestamp('2024-03-10 03:30:00', 'America/New_York'),
       toDateTime('2024-03-10 02:30:00', 'America/New_York'),
       toStartOfHour(toDateTime('2024-11-03 06:30:00'), 'America/New_York'),
       toDate(toDateTime('2024-11-03 04:30:00'), 'America/New_York')

-- name: tz_interval_berlin_dst
SELECT toDateTime('2026-03-28 12:00:00', 'Europe/Berlin') + INTERVAL 1 DAY AS a, toUnixTimestamp(a),
       toDateTime('2026-03-28 02:30:00', 'Europe/Berlin') + INTERVAL 1 DAY AS b, toUnixTimestamp(b),
       toDateTime('2026-04-05 02:30:00', 'Europe/Berlin') - INTERVAL 1 WEEK,
       toDateTime('2026-01-29 02:30:00', 'Europe/Berlin') + INTERVAL 2 MONTH,
       toDateTime('2025-03-29 02:30:00', 'Europe/Berlin') + INTERVAL 1 YEAR,
       toDateTime('2026-03-29 01:30:00', 'Europe/Berlin') + INTERVAL 1 HOUR AS h, toUnixTimestamp(h),
       toDateTime('2026-03-29 01:30:00', 'Europe/Berlin') + INTERVAL 90 MINUTE,
       toDateTime('2026-10-24 12:00:00', 'Europe/Berlin') + INTERVAL 1 DAY AS c, toUnixTimestamp(c),
       toDateTime('2026-10-24 02:30:00', 'Europe/Berlin') + INTERVAL 1 DAY AS d, toUnixTimestamp(d),
       toDateTime(1792891800, 'Europe/Berlin') + INTERVAL 1 DAY AS e, toUnixTimestamp(e),
       toDateTime(1792891800, 'Europe/Berlin') - INTERVAL 1 DAY AS f, toUnixTimestamp(f),
       toDateTime('2026-09-25 12:00:00', 'Europe/Berlin') + INTERVAL 1 MONTH AS g, toUnixTimestamp(g)

-- name: tz_interval_new_york_month_end
SELECT toDateTime('2024-10-31 23:30:00', 'America/New_York') + INTERVAL 1 MONTH AS a, toUnixTimestamp(a),
       toDateTime('2024-01-30 20:00:00', 'America/New_York') + INTERVAL 1 MONTH AS b, toUnixTimestamp(b),
       toDateTime('2024-02-29 23:30:00', 'America/New_York') + INTERVAL 1 YEAR,
       toDateTime('2024-03-31 01:30:00', 'America/New_York') - INTERVAL 1 MONTH,
       toDateTime('2024-02-10 02:30:00', 'America/New_York') + INTERVAL 1 MONTH AS c, toUnixTimestamp(c),
       toDateTime('2024-11-02 01:30:00', 'America/New_York') + INTERVAL 1 DAY AS d, toUnixTimestamp(d),
       toDate('2024-01-31') + INTERVAL 1 MONTH, toDateTime('2024-01-31 10:00:00') + INTERVAL 1 MONTH

-- name: tz_interval_rows
SELECT toDateTime(ts, 'America/New_York') + INTERVAL 2 DAY AS a, toUnixTimestamp(a),
       toDateTime(ts, 'America/New_York') - INTERVAL 1 WEEK AS b,
       toDateTime(ts, 'Europe/Berlin') + INTERVAL 1 MONTH AS c, toUnixTimestamp(c),
       ts + INTERVAL 1 MONTH
FROM events WHERE ts >= '2024-03-08 05:00:00' ORDER BY ts, event_id

-- name: tz_interval_group
SELECT toStartOfDay(ts, 'Europe/Berlin') + INTERVAL 1 MONTH AS m,
       toDate(ts, 'America/New_York') + INTERVAL 1 WEEK AS w,
       toStartOfHour(ts, 'America/New_York') + INTERVAL 1 DAY AS h, count()
FROM events GROUP BY m, w, h ORDER BY m, w, h
