"""The queries the code runs, by name. Each attribute must have a file under `cypher/`."""

from __future__ import annotations

from functools import lru_cache

from graph.catalog import Query, QueryCatalog


class Queries(QueryCatalog):
    store_ping: Query
    node_counts: Query
    relationship_counts: Query
    upsert_customers: Query
    upsert_products: Query
    customer_by_id: Query
    products_in_category: Query
    existing_events: Query
    session_chains: Query
    identity_state: Query
    customer_tiers: Query
    ingest_batch: Query
    mark_outliers: Query
    raw_create: Query


@lru_cache
def get_queries() -> Queries:
    return Queries()
