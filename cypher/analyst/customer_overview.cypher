// purpose: one customer at a glance: tier, segments, sessions and purchases.
// mode: read
// params: $id — customer id (in Neo4j Browser: :param id => '17850')
MATCH (c:Customer {id: $id})
OPTIONAL MATCH (c)-[:HAS_TIER]->(t:LoyaltyTier)
WITH c, t
OPTIONAL MATCH (c)-[:IN_SEGMENT]->(s:Segment)
WITH c, t, collect(DISTINCT s.name) AS segments
OPTIONAL MATCH (c)-[:HAD_SESSION]->(sess:Session)
WITH c, t, segments, count(DISTINCT sess) AS sessions
OPTIONAL MATCH (c)-[p:PURCHASED]->(:Product)
RETURN c.id AS customer, c.country AS country, t.name AS tier, segments, sessions,
       count(p) AS products_bought, c.ltv AS lifetime_value, c.last_seen_at AS last_seen_at
