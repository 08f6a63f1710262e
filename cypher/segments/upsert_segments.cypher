// purpose: create or update the segments of one run; rows are {id, kind, name, size, profile}
//   (profile is JSON text). A segment produced again is no longer retired.
// mode: write
// params: $rows, $model
UNWIND $rows AS r
MERGE (s:Segment {id: r.id})
SET s.kind = r.kind, s.name = r.name, s.size = r.size, s.profile = r.profile, s.model = $model,
  s.retired_at = null
