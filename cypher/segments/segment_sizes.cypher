// purpose: every segment with its kind, name, size and members actually linked.
// mode: read
// params: none
MATCH (s:Segment)
OPTIONAL MATCH (c:Customer)-[:IN_SEGMENT]->(s)
RETURN s.kind AS kind, s.name AS name, s.size AS size, count(c) AS members
ORDER BY kind, size DESC, name
