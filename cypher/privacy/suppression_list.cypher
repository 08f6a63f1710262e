// purpose: the suppression list: keyed hashes of every erased subject id and alias whose
//   suppression is in force (not lifted); events for them are refused at ingestion.
// mode: read
// params: none
MATCH (e:Erasure)
WHERE e.lifted_at IS NULL
RETURN e.subject_hash AS subject_hash, e.aliases AS aliases
