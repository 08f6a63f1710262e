// purpose: create or update customers by id, setting the given properties (batched).
// mode: write
// params: $rows — list of {id, props: {country, created_at, ...}}
UNWIND $rows AS row
MERGE (c:Customer {id: row.id})
SET c += row.props
RETURN count(c) AS customers
