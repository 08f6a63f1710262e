// purpose: swap each customer's RECOMMENDED edges for the promoted model's blended top-k (what
//   `ckg evaluate` reports as "ckg"), in one statement per batch so a reader sees the old list
//   or the new one, never both; rows are {id, items: [{product, score, rank, rank_all, reason,
//   via, via_score, buyers}]}. Re-running with the same rows leaves the same edges.
// mode: write
// params: $rows, $model
UNWIND $rows AS r
MATCH (c:Customer {id: r.id})
OPTIONAL MATCH (c)-[old:RECOMMENDED]->()
WITH c, r, collect(old) AS olds
FOREACH (o IN olds | DELETE o)
WITH c, r
UNWIND r.items AS it
MATCH (p:Product {id: it.product})
CREATE (c)-[:RECOMMENDED {score: it.score, rank: it.rank, rank_all: it.rank_all,
  reason: it.reason, via: it.via, via_score: it.via_score, buyers: it.buyers, model: $model}]->(p)
