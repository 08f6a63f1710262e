"""node2vec embeddings of the purchase graph, the recommendations built on them, and customer
segments."""
