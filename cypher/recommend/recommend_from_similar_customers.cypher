// purpose: products bought by the customer's SIMILAR customers ("customers like you"),
//   weighted by similarity; the most similar such customer is the reason.
// mode: read
// params: $id, $k, $include_purchased
MATCH (c:Customer {id: $id})-[s:SIMILAR]->(o:Customer)-[:PURCHASED]->(i:Product)
WHERE $include_purchased OR NOT (c)-[:PURCHASED]->(i)
WITH i, o, s
ORDER BY s.score DESC, o.id
WITH i, sum(s.score) AS score, collect({id: o.id, score: s.score, model: s.model})[0] AS via
RETURN i.id AS product, i.name AS name, score, via
ORDER BY score DESC, product
LIMIT $k
