// purpose: before a run's memberships are written: a customer whose segment of this kind
//   changes keeps the old one as history, WAS_IN_SEGMENT {since, until, score, model}, so
//   segment transitions stay answerable; rows are {customer, segment}.
// mode: write
// params: $rows, $kind, $at
UNWIND $rows AS r
MATCH (c:Customer {id: r.customer})-[m:IN_SEGMENT]->(s:Segment)
WHERE s.kind = $kind AND s.id <> r.segment
CREATE (c)-[:WAS_IN_SEGMENT {since: m.since, until: $at, score: m.score, model: m.model}]->(s)
DELETE m
