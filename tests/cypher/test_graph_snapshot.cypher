// purpose: a comparable picture of the whole graph: every relationship as (start id, type,
//   end id, properties) in a fixed order, for "same graph" assertions.
// mode: read
// params: none
MATCH (a)-[r]->(b)
RETURN a.id AS a, type(r) AS type, b.id AS b, properties(r) AS props
ORDER BY a, type, b
