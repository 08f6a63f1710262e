// purpose: after a run's memberships are written: customers the run left out of this kind
//   (no longer buyers, or no longer with a vector) keep their membership as history.
// mode: write
// params: $kind, $at
MATCH (c:Customer)-[m:IN_SEGMENT]->(s:Segment)
WHERE s.kind = $kind AND coalesce(m.run, -1) <> $at
CREATE (c)-[:WAS_IN_SEGMENT {since: m.since, until: $at, score: m.score, model: m.model}]->(s)
DELETE m
