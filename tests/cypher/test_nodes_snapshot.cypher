// purpose: every node's first label and properties in a fixed order, for "same graph" assertions.
// mode: read
// params: none
MATCH (n)
RETURN labels(n)[0] AS label, n.id AS id, properties(n) AS props
ORDER BY label, id
