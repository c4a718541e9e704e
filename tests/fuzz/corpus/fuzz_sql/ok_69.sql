-- daily actives
SELECT /* the /* nested */ comment */ toDate(ts), uniq(user_id)
FROM events
GROUP BY 1
ORDER BY 1