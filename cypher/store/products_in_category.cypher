// purpose: the products of one category, by id.
// mode: read
// params: $category — category id, $limit — maximum rows
MATCH (p:Product)-[:IN_CATEGORY]->(:Category {id: $category})
RETURN properties(p) AS product
ORDER BY p.id
LIMIT $limit
