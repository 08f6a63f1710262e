// purpose: who holds the writer lease $name, and for how long still (ms, the server's clock);
//   no row when nobody does.
// mode: read
// params: $name
MATCH (l:Lease {id: $name})
WHERE l.expires_at >= timestamp()
RETURN l.holder AS holder, l.expires_at - timestamp() AS remaining_ms
