// purpose: loyalty tier changes since a time, oldest first: the customer, the tier before
//   (null on the first) and after, the points, and the loyalty event, read from the
//   customers' loyalty events (HAS_TIER keeps only the latest tier); an update that keeps
//   the tier is not a change. Events removed by retention or erasure leave gaps.
// mode: read
// params: $since — epoch ms, changes at or after it (in Neo4j Browser: :param since => 0)
MATCH (e:Event)
WHERE e.type = 'loyalty_updated'
OPTIONAL MATCH (e)-[:IN_SESSION]->(:Session)<-[:HAD_SESSION]-(sc:Customer)
OPTIONAL MATCH (oc:Customer)-[:HAD_EVENT]->(e)
WITH coalesce(oc, sc) AS c, e
WHERE c IS NOT NULL
WITH c, collect([e.at, e.id, e.tier, e.points]) AS updates
UNWIND updates AS u
WITH c, u,
  reduce(b = [-1, '', null], x IN updates |
    CASE WHEN (x[0] < u[0] OR (x[0] = u[0] AND x[1] < u[1]))
      AND (x[0] > b[0] OR (x[0] = b[0] AND x[1] > b[1])) THEN x ELSE b END) AS before
WHERE u[0] >= $since AND (before[0] < 0 OR before[2] <> u[2])
RETURN u[0] AS moved_at, c.id AS customer, before[2] AS from_tier, u[2] AS to_tier,
  u[3] AS points, u[1] AS event
ORDER BY moved_at, customer, event
LIMIT 1000
