// purpose: for anonymous ids in a batch, the customer each is linked to (if any) and the sessions
//   it still holds, so linking can move them to the customer.
// mode: read
// params: $identities — Identity ids
UNWIND $identities AS iid
MATCH (i:Identity {id: iid})
OPTIONAL MATCH (c:Customer)-[:IDENTIFIED_BY]->(i)
OPTIONAL MATCH (i)-[:HAD_SESSION]->(s:Session)
RETURN iid AS identity, c.id AS customer, collect(s.id) AS sessions
