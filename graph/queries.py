"""The queries the code runs, by name. Each attribute must have a file under `cypher/`."""

from __future__ import annotations

from functools import lru_cache

from graph.catalog import Query, QueryCatalog


class Queries(QueryCatalog):
    store_ping: Query
    indexes_not_ready: Query
    node_counts: Query
    relationship_counts: Query
    acquire_lease: Query
    renew_lease: Query
    release_lease: Query
    lease_holder: Query
    upsert_customers: Query
    upsert_products: Query
    customer_by_id: Query
    products_in_category: Query
    existing_events: Query
    session_chains: Query
    identity_state: Query
    customer_tiers: Query
    ingest_batch: Query
    owner_consents: Query
    mark_outliers: Query
    raw_create: Query
    session_context: Query
    customer_profile: Query
    customer_sessions: Query
    session_contexts: Query
    recent_bestsellers: Query
    bench_session_ids: Query
    bare_erase: Query
    bench_customer_ids: Query
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
    erasure_receipts: Query
    erasure_mark_verified: Query
    erasure_verify: Query
    suppression_list: Query
    suppression_check: Query
    lift_suppression: Query
    audit_record: Query
    audit_window: Query
    audit_trail: Query
    retention_sessions: Query
    retention_events: Query
    retention_delete: Query
    # embeddings, recommendations, segments
    purchase_interactions: Query
    product_categories: Query
    product_names: Query
    set_product_embeddings: Query
    set_customer_embeddings: Query
    replace_product_similar: Query
    replace_customer_similar: Query
    drop_stale_product_similar: Query
    drop_stale_customer_similar: Query
    create_product_vector_index: Query
    create_customer_vector_index: Query
    upsert_model: Query
    promote_model: Query
    promoted_model: Query
    similar_counts: Query
    replace_recommended: Query
    drop_stale_recommended: Query
    recommended_counts: Query
    set_product_popularity: Query
    customer_consent: Query
    session_consent: Query
    recommend_for_customer: Query
    recommended_for_customer: Query
    customer_purchased: Query
    recommend_for_session: Query
    similar_products: Query
    product_card: Query
    popular_products: Query
    category_fallback: Query
    session_viewed: Query
    customer_money: Query
    customer_embeddings: Query
    set_customer_rfm: Query
    upsert_segments: Query
    close_changed_memberships: Query
    close_absent_memberships: Query
    drop_stale_segments: Query
    assign_segments: Query
    segment_sizes: Query


@lru_cache
def get_queries() -> Queries:
    return Queries()
