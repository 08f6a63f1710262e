// purpose: record a trained model: parameters, seed, data snapshot and evaluation (JSON text,
//   since neither engine stores nested maps); promotion is a separate step.
// mode: write
// params: $id, $kind, $params, $seed, $snapshot, $metrics, $created_at
MERGE (m:Model {id: $id})
ON CREATE SET m.promoted = false
SET m.kind = $kind, m.params = $params, m.seed = $seed, m.snapshot = $snapshot,
  m.metrics = $metrics, m.created_at = $created_at
