// purpose: remove SIMILAR edges between products left by other models (nodes the new model no
//   longer embeds), so only one model's edges remain.
// mode: write
// params: $model
MATCH (:Product)-[s:SIMILAR]->(:Product)
WHERE s.model <> $model
DELETE s
