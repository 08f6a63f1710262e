// purpose: store each product's node2vec vector (a list of floats, what Neo4j's vector index
//   reads); rows are {id, vector}.
// mode: write
// params: $rows
UNWIND $rows AS r
MATCH (n:Product {id: r.id})
SET n.embedding = r.vector
