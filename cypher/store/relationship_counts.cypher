// purpose: how many relationships of each type the graph holds.
// mode: read
// params: none
MATCH ()-[r]->()
RETURN type(r) AS type, count(*) AS relationships
ORDER BY type
