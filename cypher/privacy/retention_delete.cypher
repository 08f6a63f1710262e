// purpose: delete expired sessions with their carts and events, and expired loose events.
// mode: write
// params: $sessions, $carts, $events
FOREACH (x IN $events |
  MERGE (n:Event {id: x})
  DETACH DELETE n
)
FOREACH (x IN $carts |
  MERGE (n:Cart {id: x})
  DETACH DELETE n
)
FOREACH (x IN $sessions |
  MERGE (n:Session {id: x})
  DETACH DELETE n
)
RETURN size($sessions) AS sessions
