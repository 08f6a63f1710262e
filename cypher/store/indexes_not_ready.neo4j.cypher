// purpose: indexes still being populated (Neo4j builds a new index in the background); the
//   store waits for this to come back empty after every statement that creates an index.
// mode: read
// params: none
SHOW INDEXES YIELD labelsOrTypes, state
WHERE state <> 'ONLINE'
RETURN labelsOrTypes[0] AS label, state AS status
