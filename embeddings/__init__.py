"""node2vec embeddings, recommendations and segments (built by the embeddings issue)."""
