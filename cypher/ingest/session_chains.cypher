// purpose: the stored events of the given sessions with their successor and whether each is the
//   session's FIRST, so a batch can splice new events into each chain in event-time order.
// mode: read
// params: $sessions — session ids
UNWIND $sessions AS sid
MATCH (s:Session {id: sid})<-[:IN_SESSION]-(e:Event)
OPTIONAL MATCH (e)-[:NEXT]->(n:Event)
OPTIONAL MATCH (s)-[f:FIRST]->(e)
RETURN sid AS session, e.id AS id, e.at AS at, n.id AS next, f IS NOT NULL AS first
