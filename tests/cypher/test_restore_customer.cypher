// purpose: bring a customer back as a restore from an old backup would, past every guard: the
//   customer, its personal data and an identity it was linked to.
// mode: write
// params: $id, $email, $identity
CREATE (c:Customer {id: $id, created_at: 1322697600000})
CREATE (c)-[:HAS_PII]->(:PII {id: $id, email: $email})
CREATE (c)-[:IDENTIFIED_BY]->(:Identity {id: $identity, kind: 'anon'})
RETURN c.id AS id
