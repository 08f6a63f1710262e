// purpose: create or update products by id and link each to its category (batched).
// mode: write
// params: $rows — list of {id, category, props: {name, price, currency}}
UNWIND $rows AS row
MERGE (p:Product {id: row.id})
SET p += row.props
WITH p, row
WHERE row.category IS NOT NULL
MERGE (c:Category {id: row.category})
MERGE (p)-[:IN_CATEGORY]->(c)
RETURN count(p) AS products
