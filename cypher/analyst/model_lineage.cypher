// purpose: every trained model, by kind and newest first: when it was trained, whether it is
//   the promoted one or stale (trained with a subject erased since), its seed, parameters,
//   data snapshot and evaluation metrics (JSON text), and its predecessor: the model of the
//   same kind trained just before it (ties by id), with how many came before. Models record
//   no promotion time and no link to the model they replaced: the order of training is all.
// mode: read
// params: none
MATCH (m:Model)
OPTIONAL MATCH (p:Model)
WHERE p.kind = m.kind AND (p.created_at < m.created_at OR (p.created_at = m.created_at AND p.id < m.id))
WITH m, collect(CASE WHEN p IS NULL THEN null ELSE [p.created_at, p.id] END) AS earlier
WITH m, earlier,
  reduce(b = [-1, null], x IN earlier |
    CASE WHEN x[0] > b[0] OR (x[0] = b[0] AND x[1] > b[1]) THEN x ELSE b END) AS before
RETURN m.kind AS kind, m.id AS model, m.created_at AS trained_at, m.promoted AS promoted,
  coalesce(m.stale, false) AS stale, m.stale_at AS stale_at, m.seed AS seed, m.params AS params,
  m.snapshot AS snapshot, m.metrics AS metrics, before[1] AS predecessor,
  size(earlier) AS predecessors
ORDER BY kind, trained_at DESC, model
LIMIT 100
