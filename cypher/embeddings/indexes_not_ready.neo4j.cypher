// purpose: indexes still being populated (Neo4j builds a new index in the background; write-back
//   waits for this to come back empty before it relies on them).
// mode: read
// params: none
SHOW INDEXES YIELD labelsOrTypes, state
WHERE state <> 'ONLINE'
RETURN labelsOrTypes[0] AS label, state AS status
