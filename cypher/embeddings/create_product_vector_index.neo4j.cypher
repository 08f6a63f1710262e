// purpose: the vector index over product embeddings (64 dimensions, cosine).
// mode: write
// params: none
CREATE VECTOR INDEX product_embedding IF NOT EXISTS FOR (n:Product) ON (n.embedding)
OPTIONS {indexConfig: {`vector.dimensions`: 64, `vector.similarity_function`: 'cosine'}}
