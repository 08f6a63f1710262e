// purpose: cart abandonment by segment and device: of the sessions started in [$from, $to) that
//   added to a cart, how many ended without a purchase, by the owner's segment of kind $kind
//   (rfm, cluster or community; '(none)' for visitors and customers outside it) and device.
// mode: read
// params: $from — epoch ms, window start (in Neo4j Browser: :param from => 1291161600000); $to — epoch ms, window end, exclusive (:param to => 1293840000000); $kind — segment kind (:param kind => 'rfm')
MATCH (s:Session)
WHERE s.started_at >= $from AND s.started_at < $to AND s.cart_adds > 0
OPTIONAL MATCH (s)<-[:HAD_SESSION]-(owner:Customer)
OPTIONAL MATCH (s)<-[:HAD_SESSION]-(:Identity)<-[:IDENTIFIED_BY]-(linked:Customer)
WITH s, coalesce(owner, linked) AS c
OPTIONAL MATCH (c)-[:IN_SEGMENT]->(g:Segment {kind: $kind})
WITH s, coalesce(g.name, '(none)') AS segment, coalesce(s.device, 'unknown') AS device
WITH segment, device, count(DISTINCT s) AS carts,
  count(DISTINCT CASE WHEN s.purchases = 0 THEN s.id END) AS abandoned
RETURN segment, device, carts, abandoned,
  round(1000.0 * abandoned / carts) / 1000.0 AS abandonment_rate
ORDER BY segment, device
