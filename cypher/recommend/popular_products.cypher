// purpose: the non-personal fallback: most popular products of recent weeks (set by
//   `ckg embed`), optionally within one category ($category null for all).
// mode: read
// params: $k, $category
MATCH (p:Product)
WHERE p.popularity > 0
  AND ($category IS NULL OR (p)-[:IN_CATEGORY]->(:Category {id: $category}))
RETURN p.id AS product, p.name AS name, p.popularity AS score
ORDER BY score DESC, product
LIMIT $k
