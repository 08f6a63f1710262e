// purpose: the best-selling products by number of distinct buyers.
// mode: read
// params: $limit — how many (in Neo4j Browser: :param limit => 20)
MATCH (c:Customer)-[:PURCHASED]->(p:Product)
WITH p, count(DISTINCT c) AS buyers
RETURN p.id AS product, p.name AS name, buyers
ORDER BY buyers DESC, product
LIMIT $limit
