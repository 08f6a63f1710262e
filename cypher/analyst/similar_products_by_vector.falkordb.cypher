// purpose: the products most similar to $id by their node2vec vectors, through the vector
//   index: cosine similarity (1 same direction, 0 unrelated, -1 opposite; FalkorDB's score is
//   the cosine distance, 1 - cosine), most similar first, ties by id; none without a vector.
// mode: read
// params: $id — product id (in Neo4j Browser: :param id => '85123A'); $k — how many (:param k => 10)
MATCH (p:Product {id: $id})
WHERE p.embedding IS NOT NULL
CALL db.idx.vector.queryNodes('Product', 'embedding', $k + 1, p.embedding) YIELD node, score
WITH p, node, round(1000000.0 * (1.0 - score)) / 1000000.0 AS similarity
WHERE node.id <> p.id
RETURN node.id AS product, similarity, node.name AS name, node.price AS price,
  node.popularity AS popularity
ORDER BY similarity DESC, product
LIMIT $k
