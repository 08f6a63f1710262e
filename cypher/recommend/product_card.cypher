// purpose: one product's id, name and category ids (sorted); no row for an unknown product.
// mode: read
// params: $id
MATCH (p:Product {id: $id})
OPTIONAL MATCH (p)-[:IN_CATEGORY]->(k:Category)
WITH p, k
ORDER BY k.id
RETURN p.id AS product, p.name AS name, collect(k.id) AS categories
