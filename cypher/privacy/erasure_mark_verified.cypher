// purpose: record on the receipt that the verification query found nothing left.
// mode: write
// params: $receipt, $verified
MATCH (e:Erasure {id: $receipt})
SET e.verified = $verified
RETURN e.id AS id
