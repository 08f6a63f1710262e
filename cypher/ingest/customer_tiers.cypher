// purpose: the loyalty tiers customers hold now, so an update can replace them.
// mode: read
// params: $customers — customer ids
UNWIND $customers AS cid
MATCH (:Customer {id: cid})-[:HAS_TIER]->(t:LoyaltyTier)
RETURN cid AS customer, t.id AS tier
