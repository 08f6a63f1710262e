// purpose: erase one person atomically (one statement): delete their nodes by id with every
//   relationship (DETACH DELETE; shared products, categories, tiers and segments stay), shrink
//   the segments they were in, mark every existing model stale (trained with them), and store
//   the receipt: an Erasure node with the keyed hash of the subject id and the hashes of its
//   aliases (the suppression list), the counts, the id of the subject's receipt before this
//   one if any, and no personal data.
// mode: write
// params: $customers, $identities, $pii, $consents, $sessions, $carts, $events, $orders, $queries, $segments, $receipt, $hash, $aliases, $at, $counts, $previous
FOREACH (g IN $segments |
  MERGE (s:Segment {id: g})
  SET s.size = CASE WHEN s.size > 0 THEN s.size - 1 ELSE 0 END
)
FOREACH (x IN $customers |
  MERGE (n:Customer {id: x})
  DETACH DELETE n
)
FOREACH (x IN $identities |
  MERGE (n:Identity {id: x})
  DETACH DELETE n
)
FOREACH (x IN $pii |
  MERGE (n:PII {id: x})
  DETACH DELETE n
)
FOREACH (x IN $consents |
  MERGE (n:Consent {id: x})
  DETACH DELETE n
)
FOREACH (x IN $sessions |
  MERGE (n:Session {id: x})
  DETACH DELETE n
)
FOREACH (x IN $carts |
  MERGE (n:Cart {id: x})
  DETACH DELETE n
)
FOREACH (x IN $events |
  MERGE (n:Event {id: x})
  DETACH DELETE n
)
FOREACH (x IN $orders |
  MERGE (n:Order {id: x})
  DETACH DELETE n
)
FOREACH (x IN $queries |
  MERGE (n:Query {id: x})
  DETACH DELETE n
)
CREATE (receipt:Erasure {id: $receipt, subject_hash: $hash, aliases: $aliases, at: $at,
  counts: $counts, previous: $previous})
WITH receipt
OPTIONAL MATCH (m:Model)
WITH receipt, collect(m) AS models
FOREACH (m IN models | SET m.stale = true, m.stale_at = $at)
RETURN receipt.id AS id, size(models) AS stale_models
