// purpose: store each customer's node2vec vector as a FalkorDB vector (vecf32), which its vector
//   index reads; rows are {id, vector}.
// mode: write
// params: $rows
UNWIND $rows AS r
MATCH (n:Customer {id: r.id})
SET n.embedding = vecf32(r.vector)
