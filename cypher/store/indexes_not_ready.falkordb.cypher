// purpose: indexes still being built. FalkorDB builds an index created over existing nodes in
//   the background, and a statement that looks that label's nodes up by id meanwhile crashed
//   the server (CREATE VECTOR INDEX followed at once by MATCH (:Product {id: ...})): the store
//   waits for this to come back empty after every statement that creates an index.
// mode: read
// params: none
CALL db.indexes() YIELD label, status
WHERE status <> 'OPERATIONAL'
RETURN label, status
