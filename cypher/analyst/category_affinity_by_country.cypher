// purpose: what each country buys: per customer country and category, the purchases (order
//   lines) of the category's products, their buyers, and the category's share of the
//   country's purchases across categories (a product in two categories counts in both);
//   countries by code, categories by purchases (ties by id).
// mode: read
// params: none
MATCH (c:Customer)-[x:PURCHASED]->(:Product)-[:IN_CATEGORY]->(k:Category)
WHERE c.country IS NOT NULL AND x.count > 0
WITH c.country AS country, k, sum(x.count) AS purchases, count(DISTINCT c) AS buyers
WITH country, collect([k.id, k.name, purchases, buyers]) AS categories, sum(purchases) AS total
UNWIND categories AS r
RETURN country, r[0] AS category, r[1] AS name, r[2] AS purchases, r[3] AS buyers,
  round(10000.0 * r[2] / total) / 10000.0 AS share
ORDER BY country, purchases DESC, category
LIMIT 1000
