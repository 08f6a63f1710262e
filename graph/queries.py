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
    raw_create: Query
    session_context: Query
    customer_profile: Query
    popular_products: Query
    bench_session_ids: Query
    create_customer: Query
    upsert_pii: Query
    customer_by_token: Query
    consent_history: Query
    record_consents: Query
    export_customer: Query
    erasure_collect: Query
    erasure_relationships: Query
    query_searchers: Query
    erase_subject: Query
    erasure_receipt: Query
    erasure_mark_verified: Query
    erasure_verify: Query
    suppression_list: Query
    retention_sessions: Query
    retention_events: Query
    retention_delete: Query


@lru_cache
def get_queries() -> Queries:
    return Queries()
