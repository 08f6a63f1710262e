// purpose: each category with its number of products.
// mode: read
// params: none
MATCH (p:Product)-[:IN_CATEGORY]->(c:Category)
RETURN c.id AS category, c.name AS name, count(p) AS products
ORDER BY products DESC, category
