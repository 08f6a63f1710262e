// purpose: sessions whose last activity is older than the retention cut-off, with their carts
//   and events (the whole context graph goes together, so no NEXT chain is left half-cut).
// mode: read
// params: $before, $limit
MATCH (s:Session)
WHERE s.last_seen_at < $before
WITH s LIMIT $limit
RETURN s.id AS session, [(s)-[:HAS_CART]->(k) | k.id] AS carts,
  [(s)<-[:IN_SESSION]-(e) | e.id] AS events
