// purpose: remove RECOMMENDED edges left by other models (customers the new model has no
//   purchases for), so only the promoted model's recommendations remain.
// mode: write
// params: $model
MATCH (:Customer)-[r:RECOMMENDED]->()
WHERE r.model <> $model
DELETE r
