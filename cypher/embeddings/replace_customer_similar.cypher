// purpose: swap each customer's SIMILAR edges for the new model's top-k, in one statement per
//   batch so a reader sees the old list or the new one, never both; rows are
//   {id, similar: [{id, score, rank}]}. Re-running with the same rows leaves the same edges.
// mode: write
// params: $rows, $model
UNWIND $rows AS r
MATCH (a:Customer {id: r.id})
OPTIONAL MATCH (a)-[old:SIMILAR]->(:Customer)
WITH a, r, collect(old) AS olds
FOREACH (o IN olds | DELETE o)
WITH a, r
UNWIND r.similar AS s
MATCH (b:Customer {id: s.id})
CREATE (a)-[:SIMILAR {score: s.score, rank: s.rank, model: $model}]->(b)
