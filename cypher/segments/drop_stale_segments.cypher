// purpose: segments of one kind that the latest run did not produce: retired (size 0,
//   `retired_at`) while some customer's history points at them, deleted otherwise.
// mode: write
// params: $kind, $ids, $at
MATCH (s:Segment)
WHERE s.kind = $kind AND NOT s.id IN $ids
SET s.size = 0, s.retired_at = coalesce(s.retired_at, $at)
WITH s, size([(s)<-[:WAS_IN_SEGMENT]-() | 1]) AS history
WHERE history = 0
DETACH DELETE s
