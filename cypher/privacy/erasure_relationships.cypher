// purpose: every relationship touching the nodes an erasure will delete, once from each subject
//   end, so the receipt can count relationships per type exactly (privacy/erasure.py halves the
//   ones between two subject nodes).
// mode: read
// params: $customers, $identities, $pii, $consents, $sessions, $carts, $events, $orders, $queries
UNWIND $customers AS x
MATCH (n:Customer {id: x})-[r]-(m)
RETURN 'Customer' AS label, x AS id, type(r) AS type, labels(m)[0] AS other_label,
  m.id AS other_id
UNION ALL
UNWIND $identities AS x
MATCH (n:Identity {id: x})-[r]-(m)
RETURN 'Identity' AS label, x AS id, type(r) AS type, labels(m)[0] AS other_label,
  m.id AS other_id
UNION ALL
UNWIND $pii AS x
MATCH (n:PII {id: x})-[r]-(m)
RETURN 'PII' AS label, x AS id, type(r) AS type, labels(m)[0] AS other_label,
  m.id AS other_id
UNION ALL
UNWIND $consents AS x
MATCH (n:Consent {id: x})-[r]-(m)
RETURN 'Consent' AS label, x AS id, type(r) AS type, labels(m)[0] AS other_label,
  m.id AS other_id
UNION ALL
UNWIND $sessions AS x
MATCH (n:Session {id: x})-[r]-(m)
RETURN 'Session' AS label, x AS id, type(r) AS type, labels(m)[0] AS other_label,
  m.id AS other_id
UNION ALL
UNWIND $carts AS x
MATCH (n:Cart {id: x})-[r]-(m)
RETURN 'Cart' AS label, x AS id, type(r) AS type, labels(m)[0] AS other_label,
  m.id AS other_id
UNION ALL
UNWIND $events AS x
MATCH (n:Event {id: x})-[r]-(m)
RETURN 'Event' AS label, x AS id, type(r) AS type, labels(m)[0] AS other_label,
  m.id AS other_id
UNION ALL
UNWIND $orders AS x
MATCH (n:Order {id: x})-[r]-(m)
RETURN 'Order' AS label, x AS id, type(r) AS type, labels(m)[0] AS other_label,
  m.id AS other_id
UNION ALL
UNWIND $queries AS x
MATCH (n:Query {id: x})-[r]-(m)
RETURN 'Query' AS label, x AS id, type(r) AS type, labels(m)[0] AS other_label,
  m.id AS other_id
