// purpose: drop every IN_SEGMENT membership of one kind before a new run writes its own, so
//   a customer is in exactly one segment per kind.
// mode: write
// params: $kind
MATCH (:Customer)-[m:IN_SEGMENT]->(s:Segment)
WHERE s.kind = $kind
DELETE m
