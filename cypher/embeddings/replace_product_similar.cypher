// purpose: swap each product's SIMILAR edges for the new model's top-k, in one statement per
//   batch so a reader sees the old list or the new one, never both; rows are
//   {id, ids, scores}, best first (rank = position + 1). Re-running with the same rows leaves
//   the same edges.
// mode: write
// params: $rows, $model
UNWIND $rows AS r
MATCH (a:Product {id: r.id})
OPTIONAL MATCH (a)-[old:SIMILAR]->(:Product)
WITH a, r, collect(old) AS olds
FOREACH (o IN olds | DELETE o)
WITH a, r.ids AS ids, r.scores AS scores
UNWIND range(0, size(ids) - 1) AS i
MATCH (b:Product {id: ids[i]})
CREATE (a)-[:SIMILAR {score: scores[i], rank: i + 1, model: $model}]->(b)
