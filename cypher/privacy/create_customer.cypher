// purpose: create a customer through the API (pseudonymous id only); a no-op when it exists.
// mode: write
// params: $id, $at, $country
MERGE (c:Customer {id: $id})
ON CREATE SET c.created_at = $at, c.first_seen_at = $at, c.last_seen_at = $at, c.ltv = 0.0,
  c.orders = 0, c.points = 0, c.country = $country, c.source = 'api'
RETURN c.id AS id
