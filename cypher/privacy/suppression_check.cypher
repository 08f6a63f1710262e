// purpose: how many suppressions in force name any of the given keyed hashes, as subject or
//   as alias: more than 0 means the subject was erased and nothing may be written for it.
// mode: read
// params: $hashes
MATCH (e:Erasure)
WHERE e.lifted_at IS NULL
  AND (e.subject_hash IN $hashes OR any(a IN coalesce(e.aliases, []) WHERE a IN $hashes))
RETURN count(e) AS suppressed
