// purpose: put customers in segments; rows are {customer, segment, score}.
// mode: write
// params: $rows, $model
UNWIND $rows AS r
MATCH (c:Customer {id: r.customer})
MATCH (s:Segment {id: r.segment})
CREATE (c)-[:IN_SEGMENT {score: r.score, model: $model}]->(s)
