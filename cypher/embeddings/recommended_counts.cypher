// purpose: RECOMMENDED edges per model, to check write-back replaced rather than added.
// mode: read
// params: none
MATCH ()-[r:RECOMMENDED]->()
RETURN r.model AS model, count(r) AS edges
ORDER BY model
