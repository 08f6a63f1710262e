// purpose: the category fallback: popular products sharing a category with the given
//   products (what a session viewed, or a product without SIMILAR edges), with the category
//   as the reason.
// mode: read
// params: $ids, $k
MATCH (j:Product)-[:IN_CATEGORY]->(c:Category)<-[:IN_CATEGORY]-(i:Product)
WHERE j.id IN $ids AND NOT i.id IN $ids
WITH i, c, count(j) AS n
ORDER BY n DESC, c.id
WITH i, sum(n) AS n, collect(c.id)[0] AS category
RETURN i.id AS product, i.name AS name, n + coalesce(i.popularity, 0.0) AS score, category
ORDER BY score DESC, product
LIMIT $k
