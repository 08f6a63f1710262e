// purpose: every product's categories, for walks that pass through categories and for
//   category fallbacks and segment profiles.
// mode: read
// params: none
MATCH (p:Product)-[:IN_CATEGORY]->(k:Category)
RETURN p.id AS product, k.id AS category
