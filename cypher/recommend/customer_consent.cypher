// purpose: whether a customer exists, and its consent records for one purpose (its own and its
//   linked identities'); embeddings/serving.py applies the rule of graph/consent.py (latest
//   decision wins, a withdrawal wins a tie, none means not granted).
// mode: read
// params: $id, $purpose
MATCH (c:Customer {id: $id})
RETURN c.id AS owner, 'Customer' AS owner_label,
  [(c)-[:HAS_CONSENT]->(own) WHERE own.purpose = $purpose |
    own {.id, .purpose, .granted, .at, .source}]
  + [(c)-[:IDENTIFIED_BY]->()-[:HAS_CONSENT]->(alias) WHERE alias.purpose = $purpose |
    alias {.id, .purpose, .granted, .at, .source}] AS consents
