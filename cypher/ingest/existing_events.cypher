// purpose: which of a batch's event ids are already stored (they count as duplicates).
// mode: read
// params: $ids — event ids
UNWIND $ids AS eid
MATCH (e:Event {id: eid})
RETURN eid AS id
