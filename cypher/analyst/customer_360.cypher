// purpose: one customer and everything next to it: each relationship with the node at its other end.
// mode: read
// params: $id — customer id (in Neo4j Browser: :param id => '17850')
MATCH (c:Customer {id: $id})
OPTIONAL MATCH (c)-[r]-(n)
RETURN c, r, n
LIMIT 300
