// purpose: products for a live session from what it viewed: the viewed products' SIMILAR
//   neighbours, weighted by views and the edge score; the strongest viewed product is the
//   reason.
// mode: read
// params: $id, $k
MATCH (s:Session {id: $id})-[v:VIEWED]->(j:Product)-[e:SIMILAR]->(i:Product)
WHERE NOT (s)-[:VIEWED]->(i)
WITH i, j, e, v.count * e.score AS part
ORDER BY part DESC, j.id
WITH i, sum(part) AS score, collect({id: j.id, name: j.name, score: e.score, model: e.model})[0] AS via
RETURN i.id AS product, i.name AS name, score, via
ORDER BY score DESC, product
LIMIT $k
