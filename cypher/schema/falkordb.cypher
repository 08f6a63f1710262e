// FalkorDB schema: a range index on the id of every keyed label (FalkorDB has no
// IF NOT EXISTS; the store treats 'already indexed' as done, so this is safe to re-run).
// Uniqueness comes from MERGE on these ids: FalkorDB runs write queries one at a time.

CREATE INDEX FOR (n:Customer) ON (n.id);
CREATE INDEX FOR (n:Product) ON (n.id);
CREATE INDEX FOR (n:Category) ON (n.id);
CREATE INDEX FOR (n:Session) ON (n.id);
CREATE INDEX FOR (n:Event) ON (n.id);
CREATE INDEX FOR (n:Segment) ON (n.id);
CREATE INDEX FOR (n:LoyaltyTier) ON (n.id);
CREATE INDEX FOR (n:Consent) ON (n.id);
CREATE INDEX FOR (n:Model) ON (n.id);
CREATE INDEX FOR (n:Identity) ON (n.id);
CREATE INDEX FOR (n:Cart) ON (n.id);
CREATE INDEX FOR (n:Order) ON (n.id);
CREATE INDEX FOR (n:Query) ON (n.id);
CREATE INDEX FOR (n:PII) ON (n.id);
CREATE INDEX FOR (n:Erasure) ON (n.id);
CREATE INDEX FOR (n:Lease) ON (n.id);

CREATE INDEX FOR (n:Event) ON (n.at);
CREATE INDEX FOR (n:Session) ON (n.last_seen_at);
CREATE INDEX FOR (n:Consent) ON (n.purpose);
CREATE INDEX FOR (n:Erasure) ON (n.subject_hash);
CREATE INDEX FOR (n:PII) ON (n.email_token);
CREATE INDEX FOR (n:PII) ON (n.phone_token);
CREATE INDEX FOR (n:Audit) ON (n.at);
CREATE INDEX FOR (n:Audit) ON (n.subject_hash);
