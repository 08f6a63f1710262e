// purpose: each product's recent popularity (distinct buyers in the last 90 days, scaled to
//   [0, 1]), the cold-start fallback's ranking; rows are {id, popularity}.
// mode: write
// params: $rows
UNWIND $rows AS r
MATCH (p:Product {id: r.id})
SET p.popularity = r.popularity
