// purpose: the NEXT chain as graph values: each link's nodes, relationship and path.
// mode: read
// params: none
MATCH p = (a:Customer)-[r:NEXT]->(b:Customer)
RETURN a, r, b, p, [a, b] AS pair, a.id AS start
ORDER BY start
