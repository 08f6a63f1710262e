// purpose: a customer's stored recommendations with the evidence behind each: rank among all
//   (bought ones included), score and model, the reason and the product it goes through (`via`:
//   how often and when the customer bought it, its SIMILAR score to the recommendation), how many
//   of the customer's similar customers bought it, the recommendation's categories the customer
//   already buys from, and whether the customer bought it already.
// mode: read
// params: $id — customer id (in Neo4j Browser: :param id => '17850'); $limit — how many (:param limit => 20)
MATCH (c:Customer {id: $id})-[r:RECOMMENDED]->(i:Product)
WITH c, r, i
ORDER BY r.rank_all, i.id
LIMIT $limit
OPTIONAL MATCH (c)-[:SIMILAR]->(peer:Customer)-[:PURCHASED]->(i)
WITH c, r, i, count(DISTINCT peer) AS similar_customers_bought
OPTIONAL MATCH (i)-[:IN_CATEGORY]->(k:Category)<-[:IN_CATEGORY]-(:Product)<-[:PURCHASED]-(c)
WITH c, r, i, similar_customers_bought, k
ORDER BY k.id
WITH c, r, i, similar_customers_bought, collect(DISTINCT k.id) AS shared_categories
OPTIONAL MATCH (v:Product {id: r.via})
OPTIONAL MATCH (c)-[via_bought:PURCHASED]->(v)
OPTIONAL MATCH (v)-[via_similar:SIMILAR]->(i)
OPTIONAL MATCH (c)-[own:PURCHASED]->(i)
OPTIONAL MATCH (m:Model {id: r.model})
RETURN r.rank_all AS rank, i.id AS product, i.name AS name, r.score AS score, r.reason AS reason,
  r.via AS via, v.name AS via_name, r.via_score AS via_score,
  via_bought.count AS via_bought_orders, via_bought.last_at AS via_last_bought_at,
  via_similar.score AS via_similarity, r.buyers AS buyers, similar_customers_bought,
  shared_categories, own IS NOT NULL AS already_bought, r.model AS model,
  m.promoted AS model_promoted
ORDER BY rank, product
