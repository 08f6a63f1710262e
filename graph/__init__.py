"""The graph store and its two engines (Neo4j, embedded FalkorDB) with their settings, the
named-query catalog, and the graph model."""
