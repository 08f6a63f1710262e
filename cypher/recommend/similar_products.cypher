// purpose: a product's SIMILAR neighbours (the promoted node2vec model's top-k), best first;
//   no row for an unknown product.
// mode: read
// params: $id, $k
MATCH (p:Product {id: $id})
OPTIONAL MATCH (p)-[s:SIMILAR]->(i:Product)
WITH p, i, s
ORDER BY s.score DESC, i.id
WITH p, collect({id: i.id, name: i.name, score: s.score, model: s.model})[0..$k] AS similar
RETURN p.id AS product, p.name AS name, similar
