// purpose: one subject's audit trail, by the keyed hash of its id, oldest first.
// mode: read
// params: $hash
MATCH (a:Audit {subject_hash: $hash})
RETURN a.id AS id, a.action AS action, a.actor AS actor, a.at AS at,
  a.completed_at AS completed_at, a.duration_ms AS duration_ms, a.outcome AS outcome,
  a.receipt AS receipt, a.purposes_granted AS purposes_granted,
  a.purposes_withdrawn AS purposes_withdrawn
ORDER BY a.at, a.id
