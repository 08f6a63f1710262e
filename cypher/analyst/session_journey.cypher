// purpose: one session's events in the order they happened: time, type, the products each is
//   about (id and name, by id), a search's (masked) text and result count, quantities, amounts
//   and dwell time. (A map projection of a missing node is null on Neo4j and a map of nulls on
//   FalkorDB 4.16: the CASE makes it null on both, and collect leaves it out.)
// mode: read
// params: $id — session id (in Neo4j Browser: :param id => 'retail:536365'); $limit — how many events (:param limit => 200)
MATCH (:Session {id: $id})<-[:IN_SESSION]-(e:Event)
OPTIONAL MATCH (e)-[:ABOUT]->(p:Product)
WITH e, p
ORDER BY e.at, e.id, p.id
WITH e, collect(CASE WHEN p IS NULL THEN null ELSE p {.id, .name} END) AS products
RETURN e.at AS at, e.id AS event, e.type AS type, products, e.query AS query,
  e.results AS results, e.qty AS qty, e.amount AS amount, e.dwell_ms AS dwell_ms
ORDER BY at, event
LIMIT $limit
