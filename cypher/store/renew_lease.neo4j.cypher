// purpose: extend the writer lease $name while $holder still holds it; no row once it was lost
//   (it expired and another process took it).
// mode: write
// params: $name, $holder, $ttl_ms
MATCH (l:Lease {id: $name})
WHERE l.holder = $holder
SET l.touched_at = timestamp(), l.expires_at = timestamp() + $ttl_ms
RETURN l.expires_at AS expires_at
