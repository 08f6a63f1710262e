// purpose: create $n customers chained by NEXT, for recovery tests.
// mode: write
// params: $rows — list of {id, prev}
UNWIND $rows AS row
MERGE (c:Customer {id: row.id})
WITH c, row
WHERE row.prev IS NOT NULL
MATCH (p:Customer {id: row.prev})
MERGE (p)-[:NEXT]->(c)
