// purpose: give the writer lease $name back, if $holder still holds it: the node goes, so the
//   graph holds a lease only while someone writes.
// mode: write
// params: $name, $holder
MATCH (l:Lease {id: $name})
WHERE l.holder = $holder
DELETE l
