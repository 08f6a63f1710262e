// purpose: make one model of a kind the promoted one (and no other).
// mode: write
// params: $id, $kind
MATCH (m:Model)
WHERE m.kind = $kind
SET m.promoted = (m.id = $id)
RETURN count(m) AS models
