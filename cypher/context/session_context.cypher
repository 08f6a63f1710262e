// purpose: everything a chatbot needs about one session, in one round trip: the session, who it
//   belongs to (a customer, or an anonymous identity and the customer it was later linked to),
//   the consents on record, and — only when the decisive consent for $purpose is granted — the
//   session's views, searches and chat intents, the customer's summary, segments, preferred
//   categories, other sessions (`visits`: [started_at, last_seen_at]), session-based
//   recommendations (SIMILAR edges from viewed products) and the customer's stored
//   recommendations (RECOMMENDED, written by `ckg embed`).
//   The cart is the session's own working state and is always returned.
//   Consent rule (same as graph/consent.py): the latest decision per purpose is in force; on a
//   tie the withdrawal wins; no decision means not granted.
//   `placed` ([at, amount, purchased] per order) comes back only when no other session started
//   before this one, so the caller can tell a first visit from the return of a customer whose
//   earlier sessions are gone (retention) or who bought outside a session.
//   Every pattern comprehension uses its own variable names: FalkorDB 4.16 returned an empty
//   list for a comprehension that reused a name bound in an earlier one of the same clause.
//   A comprehension starting from a node bound to null costs next to nothing: the orders are
//   looked at only when no earlier session already settles the first visit (`c_placed`).
// mode: read
// params: $session_id, $purpose, $recs
MATCH (s:Session {id: $session_id})
OPTIONAL MATCH (s)<-[:HAD_SESSION]-(owner:Customer)
OPTIONAL MATCH (s)<-[:HAD_SESSION]-(anon:Identity)
OPTIONAL MATCH (anon)<-[:IDENTIFIED_BY]-(linked:Customer)
WITH s, coalesce(owner, linked) AS c, anon
LIMIT 1
WITH s, c, anon,
  [(c)-[:HAS_CONSENT]->(own) | own {.purpose, .granted, .at, .source}]
  + [(c)-[:IDENTIFIED_BY]->()-[:HAS_CONSENT]->(alias) |
    alias {.purpose, .granted, .at, .source}]
  + [(anon)-[:HAS_CONSENT]->(visitor) | visitor {.purpose, .granted, .at, .source}] AS consents
WITH s, c, anon, consents,
  reduce(best = null, k IN consents |
    CASE
      WHEN k.purpose <> $purpose THEN best
      WHEN best IS NULL OR k.at > best.at OR (k.at = best.at AND NOT k.granted) THEN k
      ELSE best
    END) AS decisive
WITH s, c, anon, consents, coalesce(decisive.granted, false) AS personal
OPTIONAL MATCH (c)-[bought:PURCHASED]->(:Product)-[:IN_CATEGORY]->(cat:Category)
WHERE personal
WITH s, c, anon, consents, personal, cat.id AS category, sum(bought.qty) AS qty
ORDER BY qty DESC
WITH s, c, anon, consents, personal, collect(category)[..3] AS categories
OPTIONAL MATCH (s)-[:VIEWED]->(seed:Product)-[sim:SIMILAR]->(rec:Product)
WHERE personal
WITH s, c, anon, consents, personal, categories, rec, max(sim.score) AS score,
  collect(coalesce(seed.name, seed.id))[0] AS because
ORDER BY score DESC
WITH s, c, anon, consents, personal, categories,
  collect({id: rec.id, name: rec.name, score: score, because: because,
    bought: size([(c)-[:PURCHASED]->(rec) | 1]) > 0})[..$recs] AS similar
WITH s, c, anon, consents, personal, categories, similar,
  [(c)-[:HAD_SESSION]->(cv) WHERE personal AND cv.id <> s.id | [cv.started_at, cv.last_seen_at]]
  + [(anon)-[:HAD_SESSION]->(av) WHERE personal AND c IS NULL AND av.id <> s.id |
    [av.started_at, av.last_seen_at]] AS visits
WITH s, c, anon, consents, personal, categories, similar, visits,
  CASE WHEN personal AND NOT any(v IN visits WHERE v[0] < s.started_at) THEN c END AS c_placed
RETURN
  s {.id, .channel, .device, .country, .started_at, .last_seen_at, .intent, .events, .views,
    .searches, .cart_adds, .checkouts, .purchases, .chats} AS session,
  c.id AS customer_id,
  anon.id AS anonymous_id,
  consents,
  personal,
  CASE WHEN personal THEN c {.ltv, .orders, .points, .country, .timezone, .first_seen_at,
    .last_seen_at, .rfm_r, .rfm_f, .rfm_m} END AS customer,
  [(c)-[h:HAS_TIER]->(t) WHERE personal | {name: t.name, since: h.since}] AS tiers,
  [(c)-[m:IN_SEGMENT]->(g) WHERE personal | {kind: g.kind, name: g.name, score: m.score}]
    AS segments,
  visits,
  [(c_placed)-[:PLACED]->(po) | [po.at, po.amount, po.purchased]] AS placed,
  categories,
  [(s)-[v:VIEWED]->(vp) WHERE personal |
    {id: vp.id, name: vp.name, count: v.count, dwell_ms: v.dwell_ms, last_at: v.last_at}] AS views,
  [(s)-[sx:SEARCHED]->(q) WHERE personal | {text: q.text, count: sx.count, last_at: sx.last_at}]
    AS searches,
  [(s)<-[:IN_SESSION]-(e) WHERE personal AND e.type = 'chat_turn' |
    {intent: e.intent, at: e.at}] AS chats,
  [(s)-[:HAS_CART]->(cart)-[line:CONTAINS]->(cp) WHERE line.qty > 0 |
    {id: cp.id, name: cp.name, qty: line.qty, unit_price: line.unit_price,
      updated_at: cart.updated_at}]
    AS cart,
  [r IN similar WHERE r.id IS NOT NULL] AS similar,
  [(c)-[rr:RECOMMENDED]->(rp) WHERE personal AND rr.rank IS NOT NULL AND rr.rank <= $recs |
    {id: rp.id, name: rp.name, score: rr.score, rank: rr.rank, reason: rr.reason,
      via: rr.via}] AS recommended
