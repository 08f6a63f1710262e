// purpose: the customer vectors written back by `ckg embed`, for behavioural clusters.
// mode: read
// params: none
MATCH (c:Customer)
WHERE c.embedding IS NOT NULL
RETURN c.id AS customer, c.embedding AS embedding
