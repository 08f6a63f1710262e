// purpose: indexes still being built. FalkorDB builds a new index in the background, and a
//   statement that looks up that label by its other indexes meanwhile can crash the server
//   (seen with CREATE VECTOR INDEX followed at once by MATCH (:Product {id: ...})): write-back
//   waits for this to come back empty.
// mode: read
// params: none
CALL db.indexes() YIELD label, status
WHERE status <> 'OPERATIONAL'
RETURN label, status
