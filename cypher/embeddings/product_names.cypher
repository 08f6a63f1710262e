// purpose: product names, for reports and explanations.
// mode: read
// params: none
MATCH (p:Product)
RETURN p.id AS product, p.name AS name
