// purpose: put customers in segments; rows are {customer, segment, score}. A membership the
//   customer already had keeps its `since`; `run` marks the memberships of this run.
// mode: write
// params: $rows, $model, $at
UNWIND $rows AS r
MATCH (c:Customer {id: r.customer})
MATCH (s:Segment {id: r.segment})
MERGE (c)-[m:IN_SEGMENT]->(s)
ON CREATE SET m.since = $at
SET m.score = r.score, m.model = $model, m.run = $at
