// purpose: append consent decisions to a customer's history (never updates or deletes one).
// mode: write
// params: $id, $consents — list of {id, purpose, granted, at, source}
MATCH (c:Customer {id: $id})
FOREACH (r IN $consents |
  CREATE (k:Consent {id: r.id, purpose: r.purpose, granted: r.granted, at: r.at,
    source: r.source})
  CREATE (c)-[:HAS_CONSENT]->(k)
)
RETURN c.id AS id
