// purpose: the non-personal fallback: products bought by the most customers in the last
//   $window_ms of the data (measured back from the latest purchase on record, so a historical
//   dataset still has a "recent" window), best first.
// mode: read
// params: $window_ms, $k
MATCH (:Customer)-[x:PURCHASED]->(:Product)
WITH max(x.last_at) AS latest
MATCH (c:Customer)-[x:PURCHASED]->(p:Product)
WHERE x.last_at >= latest - $window_ms
RETURN p.id AS id, p.name AS name, count(DISTINCT c) AS buyers
ORDER BY buyers DESC, id
LIMIT $k
