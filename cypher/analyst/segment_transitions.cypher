// purpose: segment transitions: customers who moved from one segment of kind $kind to another
//   (or out of the kind: `to_segment` null) in a segmentation run at or after $since, per
//   pair, most customers first (ties by names), with the first and last run that moved them.
//   Read from WAS_IN_SEGMENT, the memberships a later run ended; runs before history was kept
//   left none.
// mode: read
// params: $kind — rfm, cluster or community (in Neo4j Browser: :param kind => 'rfm'); $since — epoch ms, runs at or after it (:param since => 0)
MATCH (c:Customer)-[w:WAS_IN_SEGMENT]->(a:Segment)
WHERE a.kind = $kind AND w.until >= $since
OPTIONAL MATCH (c)-[n:IN_SEGMENT|WAS_IN_SEGMENT]->(b:Segment)
WHERE b.kind = $kind AND n.since = w.until
WITH a.name AS from_segment, b.name AS to_segment, w.until AS at
RETURN from_segment, to_segment, count(*) AS customers, min(at) AS first_at, max(at) AS last_at
ORDER BY customers DESC, from_segment, to_segment IS NULL, to_segment
