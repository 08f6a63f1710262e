// purpose: the promoted model of a kind, or no row.
// mode: read
// params: $kind
MATCH (m:Model)
WHERE m.kind = $kind AND m.promoted = true
RETURN properties(m) AS model
