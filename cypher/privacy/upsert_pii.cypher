// purpose: replace a customer's personal data on its one PII node; e-mail and phone also as
//   keyed tokens, the only form in which they are matched. No row when the customer is
//   unknown or its id is on the suppression list.
// mode: write
// params: $id, $hash, $email, $phone, $name, $email_token, $phone_token, $at
OPTIONAL MATCH (x:Erasure)
WHERE x.lifted_at IS NULL AND (x.subject_hash = $hash OR $hash IN x.aliases)
WITH count(x) AS suppressed
WHERE suppressed = 0
MATCH (c:Customer {id: $id})
MERGE (p:PII {id: $id})
MERGE (c)-[:HAS_PII]->(p)
SET p.email = $email, p.phone = $phone, p.name = $name, p.email_token = $email_token,
  p.phone_token = $phone_token, p.updated_at = $at
RETURN p.id AS id
