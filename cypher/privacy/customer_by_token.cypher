// purpose: which customer an e-mail or phone token belongs to (tokens: privacy/tokens.py).
// mode: read
// params: $token
MATCH (c:Customer)-[:HAS_PII]->(p:PII)
WHERE p.email_token = $token OR p.phone_token = $token
RETURN c.id AS id
