// purpose: the vector index over customer embeddings (64 dimensions, cosine).
// mode: write
// params: none
CREATE VECTOR INDEX customer_embedding IF NOT EXISTS FOR (n:Customer) ON (n.embedding)
OPTIONS {indexConfig: {`vector.dimensions`: 64, `vector.similarity_function`: 'cosine'}}
