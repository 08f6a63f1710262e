// purpose: products for a customer from what they bought: each purchased product's SIMILAR
//   neighbours, weighted by how often it was bought and the edge score; the strongest
//   purchased product is the reason. Already bought products only when asked.
// mode: read
// params: $id, $k, $include_purchased
MATCH (c:Customer {id: $id})-[b:PURCHASED]->(j:Product)-[s:SIMILAR]->(i:Product)
WHERE $include_purchased OR NOT (c)-[:PURCHASED]->(i)
WITH i, j, s, b.count * s.score AS part
ORDER BY part DESC, j.id
WITH i, sum(part) AS score, collect({id: j.id, name: j.name, score: s.score, model: s.model})[0] AS via
RETURN i.id AS product, i.name AS name, score, via
ORDER BY score DESC, product
LIMIT $k
