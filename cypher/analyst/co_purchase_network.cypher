// purpose: the co-purchase network around a product: the products bought in the same orders as
//   $id, with how many orders and customers (the event's buyer, or its session's owner) they
//   share, most shared first (ties by id); the product nodes come back too, so Neo4j Browser
//   and /explore draw them.
// mode: read
// params: $id — product id (in Neo4j Browser: :param id => '85123A'); $limit — how many products (:param limit => 25)
MATCH (p:Product {id: $id})<-[:ABOUT]-(e:Event {type: 'purchase'})-[:ABOUT]->(q:Product)
WHERE q.id <> p.id
OPTIONAL MATCH (e)<-[:HAD_EVENT]-(direct:Customer)
OPTIONAL MATCH (e)-[:IN_SESSION]->(:Session)<-[:HAD_SESSION]-(owner:Customer)
WITH p, q, e, coalesce(direct, owner) AS c
WITH p, q, count(DISTINCT e) AS orders, count(DISTINCT c) AS customers
RETURN p, q, q.id AS product, q.name AS name, orders, customers
ORDER BY orders DESC, customers DESC, product
LIMIT $limit
