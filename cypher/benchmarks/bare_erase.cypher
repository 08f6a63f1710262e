// purpose: the floor for erasure speed: delete the same nodes by id with DETACH DELETE and
//   nothing else (no collection, counting, receipt, verification or suppression).
// mode: write
// params: $customers, $identities, $pii, $consents, $sessions, $carts, $events, $orders, $queries
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
RETURN 1 AS done
