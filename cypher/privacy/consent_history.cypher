// purpose: a customer's whole consent history (its own and its linked identities'), for the
//   consent API and export; no row when the customer is unknown.
// mode: read
// params: $id
MATCH (c:Customer {id: $id})
RETURN c.id AS customer_id,
  [(c)-[:HAS_CONSENT]->(own) | own {.id, .purpose, .granted, .at, .source}]
  + [(c)-[:IDENTIFIED_BY]->()-[:HAS_CONSENT]->(alias) | alias {.id, .purpose, .granted, .at, .source}]
    AS consents
