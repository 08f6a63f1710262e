// purpose: whether a session exists, who owns it (a customer, or an anonymous identity until
//   it is linked) and the owner's consent in force for one purpose.
// mode: read
// params: $id, $purpose
MATCH (s:Session {id: $id})
OPTIONAL MATCH (o)-[:HAD_SESSION]->(s)
WHERE o:Customer OR o:Identity
OPTIONAL MATCH (o)-[:HAS_CONSENT]->(k:Consent)
WHERE k.purpose = $purpose
WITH s, o, k
ORDER BY k.at DESC, k.id DESC
WITH s, o, collect(k) AS ks
RETURN s.id AS session, o.id AS owner, CASE WHEN o:Customer THEN 'Customer' ELSE 'Identity' END AS owner_label,
  ks[0].id AS consent_id, ks[0].purpose AS purpose, ks[0].granted AS granted, ks[0].at AS at,
  ks[0].source AS source
LIMIT 1
