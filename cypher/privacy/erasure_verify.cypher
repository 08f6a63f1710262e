// purpose: proof after an erasure: how many of the erased ids still exist, per label (all must
//   be 0), plus any customer still linked to one of the erased aliases.
// mode: read
// params: $customers, $identities, $pii, $consents, $sessions, $carts, $events, $orders, $queries
UNWIND $customers AS x
MATCH (n:Customer {id: x})
RETURN 'Customer' AS label, count(n) AS remaining
UNION ALL
UNWIND $identities AS x
MATCH (n:Identity {id: x})
RETURN 'Identity' AS label, count(n) AS remaining
UNION ALL
UNWIND $pii AS x
MATCH (n:PII {id: x})
RETURN 'PII' AS label, count(n) AS remaining
UNION ALL
UNWIND $consents AS x
MATCH (n:Consent {id: x})
RETURN 'Consent' AS label, count(n) AS remaining
UNION ALL
UNWIND $sessions AS x
MATCH (n:Session {id: x})
RETURN 'Session' AS label, count(n) AS remaining
UNION ALL
UNWIND $carts AS x
MATCH (n:Cart {id: x})
RETURN 'Cart' AS label, count(n) AS remaining
UNION ALL
UNWIND $events AS x
MATCH (n:Event {id: x})
RETURN 'Event' AS label, count(n) AS remaining
UNION ALL
UNWIND $orders AS x
MATCH (n:Order {id: x})
RETURN 'Order' AS label, count(n) AS remaining
UNION ALL
UNWIND $queries AS x
MATCH (n:Query {id: x})
RETURN 'Query' AS label, count(n) AS remaining
UNION ALL
UNWIND $identities AS x
MATCH (c:Customer)-[:IDENTIFIED_BY]->(i:Identity {id: x})
RETURN 'IDENTIFIED_BY' AS label, count(c) AS remaining
