// purpose: return a parameter unchanged, to prove values travel as data, never as query text.
// mode: read
// params: $value
RETURN $value AS value
