// purpose: a customer's stored recommendations from the promoted model (the evaluated blend of
//   node2vec neighbourhoods, co-purchase and popularity, written by `ckg embed`), in its order;
//   products bought since are skipped unless asked for; each row carries its reason (the
//   strongest part of the score and the bought product behind it).
// mode: read
// params: $id, $k, $include_purchased
// (FalkorDB: the pattern predicate must follow the MATCH; after a WITH it fails with a type
//   mismatch)
MATCH (c:Customer {id: $id})-[r:RECOMMENDED]->(i:Product)
WHERE $include_purchased OR NOT (c)-[:PURCHASED]->(i)
WITH r, i, CASE WHEN $include_purchased THEN r.rank_all ELSE r.rank END AS pos
WHERE pos IS NOT NULL
WITH r, i, pos ORDER BY pos LIMIT $k
OPTIONAL MATCH (v:Product {id: r.via})
RETURN i.id AS product, i.name AS name, r.score AS score, pos, r.reason AS reason,
  r.via AS via, v.name AS via_name, r.via_score AS via_score, r.buyers AS buyers,
  r.model AS model
ORDER BY pos
