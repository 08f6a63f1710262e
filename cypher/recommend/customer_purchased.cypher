// purpose: the products a customer bought, so fallbacks do not offer them again.
// mode: read
// params: $id
MATCH (:Customer {id: $id})-[:PURCHASED]->(p:Product)
RETURN p.id AS product
