// purpose: give a customer the derived data embeddings and segments would: a segment membership,
//   a customer SIMILAR edge to another customer, a product SIMILAR edge, an embedding and a model.
// mode: write
// params: $id, $other, $product, $similar_product
MATCH (c:Customer {id: $id})
MATCH (o:Customer {id: $other})
MERGE (g:Segment {id: 'rfm:Champions'})
ON CREATE SET g.kind = 'rfm', g.name = 'Champions', g.size = 0
SET g.size = g.size + 1
MERGE (c)-[:IN_SEGMENT {score: 1.0, model: 'm1'}]->(g)
MERGE (c)-[:SIMILAR {score: 0.9, model: 'm1'}]->(o)
MERGE (m:Model {id: 'm1'})
ON CREATE SET m.kind = 'node2vec', m.promoted = true
SET c.embedding = [0.1, 0.2]
WITH c
MATCH (p:Product {id: $product})
MATCH (q:Product {id: $similar_product})
MERGE (p)-[:SIMILAR {score: 0.8, model: 'm1'}]->(q)
RETURN c.id AS id
