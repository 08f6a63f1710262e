// purpose: one customer's stored properties, or no row when the id is unknown.
// mode: read
// params: $id — customer id
MATCH (c:Customer {id: $id})
RETURN properties(c) AS customer
