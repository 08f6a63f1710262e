// purpose: lift the suppression of one subject (an explicit, audited admin action): its
//   receipts stay, marked lifted, and leave the suppression list; one row per receipt lifted.
// mode: write
// params: $hash, $at
MATCH (e:Erasure {subject_hash: $hash})
WHERE e.lifted_at IS NULL
SET e.lifted_at = $at
RETURN e.id AS id
