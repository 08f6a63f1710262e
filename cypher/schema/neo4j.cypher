// Neo4j 5 schema: one uniqueness constraint per keyed label (it also creates the backing
// index). Safe to re-run: every statement is IF NOT EXISTS. Paste into Neo4j Browser as is.

CREATE CONSTRAINT customer_id IF NOT EXISTS FOR (n:Customer) REQUIRE n.id IS UNIQUE;
CREATE CONSTRAINT product_id IF NOT EXISTS FOR (n:Product) REQUIRE n.id IS UNIQUE;
CREATE CONSTRAINT category_id IF NOT EXISTS FOR (n:Category) REQUIRE n.id IS UNIQUE;
CREATE CONSTRAINT session_id IF NOT EXISTS FOR (n:Session) REQUIRE n.id IS UNIQUE;
CREATE CONSTRAINT event_id IF NOT EXISTS FOR (n:Event) REQUIRE n.id IS UNIQUE;
CREATE CONSTRAINT segment_id IF NOT EXISTS FOR (n:Segment) REQUIRE n.id IS UNIQUE;
CREATE CONSTRAINT loyalty_tier_id IF NOT EXISTS FOR (n:LoyaltyTier) REQUIRE n.id IS UNIQUE;
CREATE CONSTRAINT consent_id IF NOT EXISTS FOR (n:Consent) REQUIRE n.id IS UNIQUE;
CREATE CONSTRAINT model_id IF NOT EXISTS FOR (n:Model) REQUIRE n.id IS UNIQUE;
CREATE CONSTRAINT identity_id IF NOT EXISTS FOR (n:Identity) REQUIRE n.id IS UNIQUE;
CREATE CONSTRAINT cart_id IF NOT EXISTS FOR (n:Cart) REQUIRE n.id IS UNIQUE;
CREATE CONSTRAINT order_id IF NOT EXISTS FOR (n:Order) REQUIRE n.id IS UNIQUE;
CREATE CONSTRAINT query_id IF NOT EXISTS FOR (n:Query) REQUIRE n.id IS UNIQUE;
CREATE CONSTRAINT pii_id IF NOT EXISTS FOR (n:PII) REQUIRE n.id IS UNIQUE;
CREATE CONSTRAINT erasure_id IF NOT EXISTS FOR (n:Erasure) REQUIRE n.id IS UNIQUE;
CREATE CONSTRAINT lease_id IF NOT EXISTS FOR (n:Lease) REQUIRE n.id IS UNIQUE;

// Range indexes for time-ordered lookups.
CREATE INDEX event_at IF NOT EXISTS FOR (n:Event) ON (n.at);
CREATE INDEX session_last_seen_at IF NOT EXISTS FOR (n:Session) ON (n.last_seen_at);
CREATE INDEX consent_purpose IF NOT EXISTS FOR (n:Consent) ON (n.purpose);
CREATE INDEX erasure_subject_hash IF NOT EXISTS FOR (n:Erasure) ON (n.subject_hash);
CREATE INDEX pii_email_token IF NOT EXISTS FOR (n:PII) ON (n.email_token);
CREATE INDEX pii_phone_token IF NOT EXISTS FOR (n:PII) ON (n.phone_token);
CREATE INDEX audit_at IF NOT EXISTS FOR (n:Audit) ON (n.at);
CREATE INDEX audit_subject_hash IF NOT EXISTS FOR (n:Audit) ON (n.subject_hash);
