// purpose: test isolation on engines with a single database (Neo4j community): empty it.
// mode: write
// params: none
MATCH (n)
DETACH DELETE n
