// purpose: create a customer through the API (pseudonymous id only); a no-op when it exists,
//   and no row when its id is on the suppression list (an erased subject stays erased).
// mode: write
// params: $id, $hash, $at, $country
OPTIONAL MATCH (x:Erasure)
WHERE x.lifted_at IS NULL AND (x.subject_hash = $hash OR $hash IN x.aliases)
WITH count(x) AS suppressed
WHERE suppressed = 0
MERGE (c:Customer {id: $id})
ON CREATE SET c.created_at = $at, c.first_seen_at = $at, c.last_seen_at = $at, c.ltv = 0.0,
  c.orders = 0, c.points = 0, c.country = $country, c.source = 'api'
RETURN c.id AS id
