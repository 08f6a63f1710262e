// purpose: take the writer lease $name for $holder when it is free, expired or already its own;
//   a row only when taken. The first SET write-locks the node, so the check after it reads the
//   holder last committed (two processes never both see it free); times in the server's clock.
// mode: write
// params: $name, $holder, $ttl_ms
MERGE (l:Lease {id: $name})
SET l.touched_at = timestamp()
WITH l
WHERE l.holder IS NULL OR l.holder = $holder OR l.expires_at < l.touched_at
SET l.holder = $holder, l.expires_at = l.touched_at + $ttl_ms
RETURN l.holder AS holder, l.expires_at AS expires_at
