// purpose: every erasure receipt of one subject, by the keyed hash of its id, oldest first:
//   the one in force answers a repeated erasure, the latest is what a new one refers to.
// mode: read
// params: $hash
MATCH (e:Erasure {subject_hash: $hash})
RETURN e.id AS id, e.at AS at, e.counts AS counts, e.verified AS verified,
  e.previous AS previous, e.lifted_at AS lifted_at
ORDER BY e.at, e.id
