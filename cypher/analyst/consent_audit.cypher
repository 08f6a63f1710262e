// purpose: consent decisions recorded since a time, oldest first: whose (the customer, or the
//   anonymous identity and the customer it was linked to), which purpose, granted or withdrawn,
//   when and from which source (banner, API, import). Records are appended, never updated, so
//   this is the whole history; an erased subject's records are gone with it.
// mode: read
// params: $since — epoch ms, decisions at or after it (in Neo4j Browser: :param since => 0)
MATCH (k:Consent)
WHERE k.at >= $since
MATCH (owner)-[:HAS_CONSENT]->(k)
OPTIONAL MATCH (linked:Customer)-[:IDENTIFIED_BY]->(owner)
WITH k, owner, 'Customer' IN labels(owner) AS own, min(linked.id) AS linked_customer
RETURN k.at AS at, CASE WHEN own THEN owner.id ELSE linked_customer END AS customer,
  CASE WHEN own THEN null ELSE owner.id END AS identity, k.purpose AS purpose,
  CASE WHEN k.granted THEN 'granted' ELSE 'withdrawn' END AS decision, k.source AS source,
  k.id AS record
ORDER BY at, record
LIMIT 1000
