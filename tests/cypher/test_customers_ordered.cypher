// purpose: every customer id with its successor, for comparing whole graphs.
// mode: read
// params: none
MATCH (c:Customer)
OPTIONAL MATCH (c)-[:NEXT]->(n:Customer)
RETURN c.id AS id, n.id AS next
ORDER BY id
