"""The graph store: settings, the named-query catalog, the two engines and the graph model."""
