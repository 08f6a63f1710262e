// purpose: the shopping funnel by day (UTC) and channel: sessions started in [$from, $to), and
//   how many of them viewed a product, added to a cart, started a checkout and bought.
// mode: read
// params: $from — epoch ms, window start (in Neo4j Browser: :param from => 1291161600000); $to — epoch ms, window end, exclusive (:param to => 1293840000000)
MATCH (s:Session)
WHERE s.started_at >= $from AND s.started_at < $to
WITH s, s.started_at - s.started_at % 86400000 AS day_at, coalesce(s.channel, 'unknown') AS channel
RETURN day_at, channel, count(s) AS sessions,
  count(CASE WHEN s.views > 0 THEN 1 END) AS viewed,
  count(CASE WHEN s.cart_adds > 0 THEN 1 END) AS carted,
  count(CASE WHEN s.checkouts > 0 THEN 1 END) AS checked_out,
  count(CASE WHEN s.purchases > 0 THEN 1 END) AS purchased
ORDER BY day_at, channel
