// purpose: append consent decisions to a customer's history (never updates or deletes one).
//   No row when the customer is unknown or its id is on the suppression list.
// mode: write
// params: $id, $hash, $consents — list of {id, purpose, granted, at, source}
OPTIONAL MATCH (x:Erasure)
WHERE x.lifted_at IS NULL AND (x.subject_hash = $hash OR $hash IN x.aliases)
WITH count(x) AS suppressed
WHERE suppressed = 0
MATCH (c:Customer {id: $id})
FOREACH (r IN $consents |
  CREATE (k:Consent {id: r.id, purpose: r.purpose, granted: r.granted, at: r.at,
    source: r.source})
  CREATE (c)-[:HAS_CONSENT]->(k)
)
RETURN c.id AS id
