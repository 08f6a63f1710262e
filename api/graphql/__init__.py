"""GraphQL over the chatbot's reads: the schema (`schema.py`), its limits (`limits.py`) and the
REST answers' shapes as GraphQL types (`mirror.py`). The persisted SDL, `schema.graphql`, is
the contract; `make graphql-schema` writes it again from the code."""
