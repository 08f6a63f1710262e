// purpose: record on the receipt that the verification query found nothing left.
// mode: write
// params: $hash, $verified
MATCH (e:Erasure {id: $hash})
SET e.verified = $verified
RETURN e.id AS id
