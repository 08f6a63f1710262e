// purpose: one segment: what it is (kind, name, model, stored profile), its members (how many,
//   their mean lifetime value, orders and R/F/M scores, and the $sample of highest value), and
//   the categories its members bought most (by quantity, ties by id, top $top).
// mode: read
// params: $id — segment id (in Neo4j Browser: :param id => 'rfm:champions'); $sample — members listed (:param sample => 10); $top — categories listed (:param top => 5)
MATCH (g:Segment {id: $id})
OPTIONAL MATCH (g)<-[:IN_SEGMENT]-(c:Customer)
WITH g, c
ORDER BY c.ltv DESC, c.id
WITH g, count(c) AS members, collect(c.id)[0..$sample] AS sample,
  round(100.0 * avg(c.ltv)) / 100.0 AS mean_ltv, round(100.0 * avg(c.orders)) / 100.0 AS mean_orders,
  round(100.0 * avg(c.rfm_r)) / 100.0 AS mean_r, round(100.0 * avg(c.rfm_f)) / 100.0 AS mean_f,
  round(100.0 * avg(c.rfm_m)) / 100.0 AS mean_m
OPTIONAL MATCH (g)<-[:IN_SEGMENT]-(:Customer)-[b:PURCHASED]->(:Product)-[:IN_CATEGORY]->(k:Category)
WITH g, members, sample, mean_ltv, mean_orders, mean_r, mean_f, mean_m, k,
  toInteger(sum(b.qty)) AS qty
ORDER BY qty DESC, k.id
WITH g, members, sample, mean_ltv, mean_orders, mean_r, mean_f, mean_m,
  collect(CASE WHEN k IS NULL THEN null ELSE k {.id, .name, qty: qty} END)[0..$top]
    AS top_categories
RETURN g.id AS segment, g.kind AS kind, g.name AS name, g.model AS model, g.profile AS profile,
  members, sample, mean_ltv, mean_orders, mean_r, mean_f, mean_m, top_categories
