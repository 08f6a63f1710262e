// purpose: the receipt of an earlier erasure, by the keyed hash of the subject id.
// mode: read
// params: $hash
MATCH (e:Erasure {id: $hash})
RETURN e.subject_hash AS subject_hash, e.at AS at, e.counts AS counts, e.verified AS verified
