// purpose: every purchase (order) before a cutoff (epoch ms) with its customer, time and
//   products: the interactions node2vec, the recommender and the evaluation learn from. A
//   multi-line order is one purchase Event ABOUT each of its products, reached through its
//   session; one row per order keeps the reply small.
// mode: read
// params: $before
MATCH (c:Customer)-[:HAD_SESSION]->(:Session)<-[:IN_SESSION]-(e:Event)
WHERE e.type = 'purchase' AND e.at < $before
MATCH (e)-[:ABOUT]->(p:Product)
RETURN c.id AS customer, e.at AS at, collect(p.id) AS products
