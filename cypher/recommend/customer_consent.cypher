// purpose: whether a customer exists and the consent in force for one purpose (the latest
//   record for it); no consent record means not granted.
// mode: read
// params: $id, $purpose
MATCH (c:Customer {id: $id})
OPTIONAL MATCH (c)-[:HAS_CONSENT]->(k:Consent)
WHERE k.purpose = $purpose
WITH c, k
ORDER BY k.at DESC, k.id DESC
WITH c, collect(k) AS ks
RETURN c.id AS owner, 'Customer' AS owner_label, ks[0].id AS consent_id,
  ks[0].purpose AS purpose, ks[0].granted AS granted, ks[0].at AS at, ks[0].source AS source
