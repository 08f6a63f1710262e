// purpose: one customer's profile for a declared purpose: the consents on record always; the
//   summary (loyalty tier, points, lifetime value, orders, RFM scores, segments, preferred
//   categories, sessions, first and last seen) only when the decisive consent for $purpose is
//   granted. No row when the id is unknown. Consent rule as in session_context.cypher.
// mode: read
// params: $id, $purpose
MATCH (c:Customer {id: $id})
WITH c,
  [(c)-[:HAS_CONSENT]->(own) | own {.purpose, .granted, .at, .source}]
  + [(c)-[:IDENTIFIED_BY]->()-[:HAS_CONSENT]->(alias) |
    alias {.purpose, .granted, .at, .source}]
    AS consents
WITH c, consents,
  reduce(best = null, k IN consents |
    CASE
      WHEN k.purpose <> $purpose THEN best
      WHEN best IS NULL OR k.at > best.at OR (k.at = best.at AND NOT k.granted) THEN k
      ELSE best
    END) AS decisive
WITH c, consents, coalesce(decisive.granted, false) AS personal
OPTIONAL MATCH (c)-[bought:PURCHASED]->(:Product)-[:IN_CATEGORY]->(cat:Category)
WHERE personal
WITH c, consents, personal, cat.id AS category, sum(bought.qty) AS qty
ORDER BY qty DESC, category
WITH c, consents, personal, collect(category)[..3] AS categories
RETURN
  c.id AS customer_id,
  consents,
  personal,
  CASE WHEN personal THEN c {.ltv, .orders, .points, .country, .timezone, .first_seen_at,
    .last_seen_at, .rfm_r, .rfm_f, .rfm_m} END AS customer,
  [(c)-[h:HAS_TIER]->(t) WHERE personal | {name: t.name, since: h.since}] AS tiers,
  [(c)-[m:IN_SEGMENT]->(g) WHERE personal | {kind: g.kind, name: g.name, score: m.score}]
    AS segments,
  [(c)-[:HAD_SESSION]->(o) WHERE personal | o.last_seen_at] AS other_sessions,
  categories
