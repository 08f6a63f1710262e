// purpose: everything held on one person (data subject access request): profile, personal data,
//   identities, consents, loyalty, segments and their history, purchases, orders, sessions with
//   their events, views, searches and carts, events outside sessions, and derived similarity
//   edges. No row when the customer is unknown.
// mode: read
// params: $id
MATCH (c:Customer {id: $id})
RETURN properties(c) AS customer,
  [(c)-[:HAS_PII]->(p) | properties(p)] AS pii,
  [(c)-[:IDENTIFIED_BY]->(i) | properties(i)] AS identities,
  [(c)-[:HAS_CONSENT]->(own) | properties(own)]
  + [(c)-[:IDENTIFIED_BY]->()-[:HAS_CONSENT]->(alias) | properties(alias)] AS consents,
  [(c)-[h:HAS_TIER]->(t) | {tier: t.name, since: h.since}] AS tiers,
  [(c)-[m:IN_SEGMENT]->(g) | {segment: g.id, kind: g.kind, name: g.name, score: m.score,
    model: m.model, since: m.since}] AS segments,
  [(c)-[w:WAS_IN_SEGMENT]->(wg) | {segment: wg.id, kind: wg.kind, name: wg.name,
    since: w.since, until: w.until, model: w.model}] AS segment_history,
  [(c)-[x:PURCHASED]->(bp) | {product: bp.id, name: bp.name, count: x.count, qty: x.qty,
    amount: x.amount, last_at: x.last_at}] AS purchases,
  [(c)-[:PLACED]->(o) | properties(o)] AS orders,
  [(c)-[:HAD_SESSION]->(s) | properties(s)]
  + [(c)-[:IDENTIFIED_BY]->()-[:HAD_SESSION]->(s2) | properties(s2)] AS sessions,
  [(c)-[:HAD_SESSION]->(s3)<-[:IN_SESSION]-(e) | {session: s3.id, event: properties(e)}]
  + [(c)-[:IDENTIFIED_BY]->()-[:HAD_SESSION]->(s4)<-[:IN_SESSION]-(e2) |
    {session: s4.id, event: properties(e2)}] AS session_events,
  [(c)-[:HAD_EVENT]->(e3) | properties(e3)]
  + [(c)-[:IDENTIFIED_BY]->()-[:HAD_EVENT]->(e4) | properties(e4)] AS other_events,
  [(c)-[:HAD_SESSION]->(s5)-[v:VIEWED]->(vp) | {session: s5.id, product: vp.id,
    count: v.count, dwell_ms: v.dwell_ms, last_at: v.last_at}] AS views,
  [(c)-[:HAD_SESSION]->(s6)-[sx:SEARCHED]->(q) | {session: s6.id, text: q.text,
    count: sx.count, last_at: sx.last_at}] AS searches,
  [(c)-[:HAD_SESSION]->(s7)-[:HAS_CART]->(k)-[line:CONTAINS]->(cp) | {session: s7.id,
    cart: k.id, product: cp.id, qty: line.qty, unit_price: line.unit_price}] AS carts,
  [(c)-[r:SIMILAR]-(other:Customer) | {score: r.score, model: r.model}] AS similar_customers
