// purpose: every session id, for benchmarks that pick real sessions at random.
// mode: read
// params: none
MATCH (s:Session)
RETURN s.id AS id
