// purpose: replace a customer's personal data on its one PII node; e-mail and phone also as
//   keyed tokens, the only form in which they are matched.
// mode: write
// params: $id, $email, $phone, $name, $email_token, $phone_token, $at
MATCH (c:Customer {id: $id})
MERGE (p:PII {id: $id})
MERGE (c)-[:HAS_PII]->(p)
SET p.email = $email, p.phone = $phone, p.name = $name, p.email_token = $email_token,
  p.phone_token = $phone_token, p.updated_at = $at
RETURN p.id AS id
