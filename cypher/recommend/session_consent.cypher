// purpose: whether a session exists, who owns it (a customer, or an anonymous identity and the
//   customer it was later linked to) and the owner's consent records for one purpose (rule as
//   in customer_consent.cypher).
// mode: read
// params: $id, $purpose
MATCH (s:Session {id: $id})
OPTIONAL MATCH (s)<-[:HAD_SESSION]-(owner:Customer)
OPTIONAL MATCH (s)<-[:HAD_SESSION]-(anon:Identity)
OPTIONAL MATCH (anon)<-[:IDENTIFIED_BY]-(linked:Customer)
WITH s, coalesce(owner, linked) AS c, anon
LIMIT 1
RETURN s.id AS session, coalesce(c.id, anon.id) AS owner,
  CASE WHEN c IS NULL THEN 'Identity' ELSE 'Customer' END AS owner_label,
  [(c)-[:HAS_CONSENT]->(own) WHERE own.purpose = $purpose |
    own {.id, .purpose, .granted, .at, .source}]
  + [(c)-[:IDENTIFIED_BY]->()-[:HAS_CONSENT]->(alias) WHERE alias.purpose = $purpose |
    alias {.id, .purpose, .granted, .at, .source}]
  + [(anon)-[:HAS_CONSENT]->(visitor) WHERE visitor.purpose = $purpose |
    visitor {.id, .purpose, .granted, .at, .source}] AS consents
