// purpose: one customer's sessions, the latest activity first (then by id), at most $limit:
//   channel, device, start and last activity. No row for an unknown customer or one without
//   sessions; the caller reads it only when personalization consent is in force.
// mode: read
// params: $id, $limit
MATCH (:Customer {id: $id})-[:HAD_SESSION]->(s:Session)
WITH s, coalesce(s.last_seen_at, s.started_at, 0) AS active
ORDER BY active DESC, s.id
LIMIT $limit
RETURN s.id AS id, s.channel AS channel, s.device AS device, s.started_at AS started_at,
  s.last_seen_at AS last_seen_at
