// purpose: high-value customers who stopped buying: lifetime value at least $min_value and no
//   order placed by a purchase since $before, highest value first (ties by id), with their
//   country, orders, last purchase and last visit.
// mode: read
// params: $before — epoch ms, last purchase before it (in Neo4j Browser: :param before => 1291161600000); $min_value — lifetime value at least (:param min_value => 1000.0); $limit — how many (:param limit => 50)
MATCH (c:Customer)-[:PLACED]->(o:Order)
WHERE c.ltv >= $min_value AND o.purchased AND NOT o.cancelled
WITH c, max(o.at) AS last_purchase_at, count(o) AS orders
WHERE last_purchase_at < $before
RETURN c.id AS customer, c.country AS country, c.ltv AS lifetime_value, orders,
  last_purchase_at, c.last_seen_at AS last_seen_at
ORDER BY lifetime_value DESC, customer
LIMIT $limit
