// purpose: append one privacy request to the audit trail: what was asked, by whom, when, how
//   it ended; the subject only as its keyed hash, so no personal data and nothing an erasure
//   deletes.
// mode: write
// params: $id, $action, $hash, $actor, $at, $completed_at, $duration_ms, $outcome, $receipt, $purposes_granted, $purposes_withdrawn
CREATE (a:Audit {id: $id, action: $action, subject_hash: $hash, actor: $actor, at: $at,
  completed_at: $completed_at, duration_ms: $duration_ms, outcome: $outcome, receipt: $receipt,
  purposes_granted: $purposes_granted, purposes_withdrawn: $purposes_withdrawn})
RETURN a.id AS id
