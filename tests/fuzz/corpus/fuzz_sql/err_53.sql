SELECT
  toStartOfHour()
FROM events