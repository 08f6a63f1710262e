// purpose: the floor for write speed: create nodes and relationships with no lookups, no MERGE,
//   no checks (benchmarks/ingest.py compares the loader with it, in a scratch graph).
// mode: write
// params: $rows — list of {id, rels}: one node each, with `rels` relationships
UNWIND $rows AS row
CREATE (n:Event {id: row.id, type: 'raw', at: 0})
FOREACH (i IN range(1, row.rels) | CREATE (n)-[:NEXT]->(n))
