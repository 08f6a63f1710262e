// purpose: every customer id, for benchmarks that pick real customers at random.
// mode: read
// params: none
MATCH (c:Customer)
RETURN c.id AS id
