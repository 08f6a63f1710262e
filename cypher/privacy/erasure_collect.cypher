// purpose: the ids of everything that belongs to one person, for erasure: the customer, its
//   identities (aliases), personal data, consents, sessions (its own and its aliases'), their
//   carts and events, events outside sessions, orders, segment memberships, and the search
//   queries its sessions made (once per session; query_searchers.cypher tells which are shared).
// mode: read
// params: $id
MATCH (c:Customer {id: $id})
WITH c,
  [(c)-[:HAD_SESSION]->(s) | s.id] + [(c)-[:IDENTIFIED_BY]->()-[:HAD_SESSION]->(s2) | s2.id]
    AS sessions
RETURN c.id AS customer,
  [(c)-[:IDENTIFIED_BY]->(i) | i.id] AS identities,
  [(c)-[:HAS_PII]->(p) | p.id] AS pii,
  [(c)-[:HAS_CONSENT]->(own) | own.id] + [(c)-[:IDENTIFIED_BY]->()-[:HAS_CONSENT]->(alias) | alias.id]
    AS consents,
  sessions,
  [(c)-[:HAD_SESSION]->()-[:HAS_CART]->(k) | k.id]
  + [(c)-[:IDENTIFIED_BY]->()-[:HAD_SESSION]->()-[:HAS_CART]->(k2) | k2.id] AS carts,
  [(c)-[:HAD_SESSION]->()<-[:IN_SESSION]-(e) | e.id]
  + [(c)-[:IDENTIFIED_BY]->()-[:HAD_SESSION]->()<-[:IN_SESSION]-(e2) | e2.id]
  + [(c)-[:HAD_EVENT]->(e3) | e3.id] + [(c)-[:IDENTIFIED_BY]->()-[:HAD_EVENT]->(e4) | e4.id]
    AS events,
  [(c)-[:PLACED]->(o) | o.id] AS orders,
  [(c)-[:IN_SEGMENT]->(g) | g.id] AS segments,
  [(c)-[:HAD_SESSION]->()-[:SEARCHED]->(q) | q.id]
  + [(c)-[:IDENTIFIED_BY]->()-[:HAD_SESSION]->()-[:SEARCHED]->(q2) | q2.id] AS queries
