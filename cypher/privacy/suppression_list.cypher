// purpose: the suppression list: keyed hashes of every erased subject id and alias; events for
//   them are refused at ingestion.
// mode: read
// params: none
MATCH (e:Erasure)
RETURN e.subject_hash AS subject_hash, e.aliases AS aliases
