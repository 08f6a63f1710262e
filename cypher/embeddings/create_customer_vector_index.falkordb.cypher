// purpose: the vector index over customer embeddings (64 dimensions, cosine); FalkorDB has no
//   IF NOT EXISTS, the caller treats 'already indexed' as done.
// mode: write
// params: none
CREATE VECTOR INDEX FOR (n:Customer) ON (n.embedding) OPTIONS {dimension: 64, similarityFunction: 'cosine'}
