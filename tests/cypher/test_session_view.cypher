// purpose: one session as the context graph holds it: owner, intent, chain in order, cart lines.
// mode: read
// params: $id — session id
MATCH (s:Session {id: $id})
OPTIONAL MATCH (owner)-[:HAD_SESSION]->(s)
OPTIONAL MATCH (s)-[:FIRST]->(f:Event)
OPTIONAL MATCH (s)-[:HAS_CART]->(:Cart)-[c:CONTAINS]->(p:Product)
RETURN labels(owner)[0] AS owner_label, owner.id AS owner, s.intent AS intent, f.id AS first,
       collect(DISTINCT {product: p.id, qty: c.qty}) AS cart
