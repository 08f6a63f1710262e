// purpose: how many nodes each label holds (one row per label combination's first label).
// mode: read
// params: none
MATCH (n)
RETURN labels(n)[0] AS label, count(*) AS nodes
ORDER BY label
