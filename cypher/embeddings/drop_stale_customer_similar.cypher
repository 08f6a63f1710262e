// purpose: remove SIMILAR edges between customers left by other models (nodes the new model no
//   longer embeds), so only one model's edges remain.
// mode: write
// params: $model
MATCH (:Customer)-[s:SIMILAR]->(:Customer)
WHERE s.model <> $model
DELETE s
