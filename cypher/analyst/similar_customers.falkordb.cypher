// purpose: the customers most similar to $id by their node2vec vectors, through the vector
//   index: cosine similarity (1 same direction, 0 unrelated, -1 opposite; FalkorDB's score is
//   the cosine distance, 1 - cosine), most similar first, ties by id; none without a vector.
// mode: read
// params: $id — customer id (in Neo4j Browser: :param id => '17850'); $k — how many (:param k => 10)
MATCH (c:Customer {id: $id})
WHERE c.embedding IS NOT NULL
CALL db.idx.vector.queryNodes('Customer', 'embedding', $k + 1, c.embedding) YIELD node, score
WITH c, node, round(1000000.0 * (1.0 - score)) / 1000000.0 AS similarity
WHERE node.id <> c.id
RETURN node.id AS customer, similarity, node.country AS country, node.ltv AS lifetime_value,
  node.orders AS orders
ORDER BY similarity DESC, customer
LIMIT $k
