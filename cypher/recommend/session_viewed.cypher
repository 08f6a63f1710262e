// purpose: the products a session viewed, most viewed first, for the category fallback.
// mode: read
// params: $id
MATCH (:Session {id: $id})-[v:VIEWED]->(p:Product)
RETURN p.id AS product
ORDER BY v.count DESC, product
LIMIT 20
