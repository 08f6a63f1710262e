// purpose: new customers per week: customers by the week (Monday 00:00 UTC, epoch ms) of their
//   first event or of their creation through the API, oldest week first.
// mode: read
// params: none
MATCH (c:Customer)
WHERE c.first_seen_at IS NOT NULL
WITH (c.first_seen_at + 259200000) / 604800000 * 604800000 - 259200000 AS week_start_at
RETURN week_start_at, count(*) AS new_customers
ORDER BY week_start_at
LIMIT 1000
