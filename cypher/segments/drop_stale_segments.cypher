// purpose: remove segments of one kind that the latest run did not produce.
// mode: write
// params: $kind, $ids
MATCH (s:Segment)
WHERE s.kind = $kind AND NOT s.id IN $ids
DETACH DELETE s
