// purpose: SIMILAR edges per model, to check write-back replaced rather than added.
// mode: read
// params: none
MATCH ()-[s:SIMILAR]->()
RETURN s.model AS model, count(s) AS edges
ORDER BY model
