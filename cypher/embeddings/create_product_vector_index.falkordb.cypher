// purpose: the vector index over product embeddings (64 dimensions, cosine); FalkorDB has no
//   IF NOT EXISTS, the caller treats 'already indexed' as done.
// mode: write
// params: none
CREATE VECTOR INDEX FOR (n:Product) ON (n.embedding) OPTIONS {dimension: 64, similarityFunction: 'cosine'}
