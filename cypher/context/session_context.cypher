// purpose: everything a chatbot needs about one session, in one round trip: the session, who it
//   belongs to (a customer, or an anonymous identity and the customer it was later linked to),
//   the consents on record, and — only when the decisive consent for $purpose is granted — the
//   session's views, searches and chat intents, the customer's summary, segments, preferred
//   categories, other sessions (`visits`: [started_at, last_seen_at]), session-based
//   recommendations (SIMILAR edges from viewed products) and the customer's stored
//   recommendations (RECOMMENDED, written by `ckg embed`).
//   The cart is the session's own working state and is always returned.
//   Ties break by id (categories, recommendations, the viewed product a recommendation is
//   `because` of: the one with the strongest SIMILAR edge), so both engines answer alike.
//   Consent rule (same as graph/consent.py): the latest decision per purpose is in force; on a
//   tie the withdrawal wins; no decision means not granted.
//   `placed` ([at, amount, purchased] per order) holds the orders placed before this session
//   when no other session started before it, so the caller can tell a first visit from the
//   return of a customer whose earlier sessions are gone (retention) or who bought outside a
//   session; with $at, the orders placed by then.
//   As of $at (epoch ms; null: now), for replaying history: personal needs the purpose granted
//   at $at and still now (a withdrawal since applies to replays too); `placed` holds the
//   orders placed by then, for lifetime value and order count as of then (the customer's
//   `ltv` and `orders` are left out); points, country and time zone only when last set by
//   then; tiers held since then; purchases last made by then (preferred categories). RFM scores,
//   segments and both kinds of stored recommendations come from batch runs over all data and
//   carry no time of their own: left out. Views, searches, chats and the cart need no filter
//   once the session is over by $at; when $at falls inside it, `replay` and `replay_products`
//   hold its events up to $at (views, search text and chat intents only with consent) and the
//   caller rebuilds the session's state from them. Other sessions started after $at are the
//   caller's to drop.
//   Every pattern comprehension uses its own variable names: FalkorDB 4.16 returned an empty
//   list for a comprehension that reused a name bound in an earlier one of the same clause.
//   A comprehension runs even in a CASE branch not taken, and one whose WHERE held a false test
//   of a parameter alone (`$at IS NULL`) lost the whole row on FalkorDB 4.16: what only a
//   replay or only a live read needs starts from a node bound to null otherwise (`c_now`,
//   `s_then`, `c_placed`), which costs next to nothing.
// mode: read
// params: $session_id, $purpose, $recs, $at
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
    END) AS decisive,
  reduce(best = null, k IN consents |
    CASE
      WHEN k.purpose <> $purpose OR coalesce(k.at > $at, false) THEN best
      WHEN best IS NULL OR k.at > best.at OR (k.at = best.at AND NOT k.granted) THEN k
      ELSE best
    END) AS decisive_then
WITH s, c, anon, consents,
  coalesce(decisive.granted, false) AND coalesce(decisive_then.granted, false) AS personal
OPTIONAL MATCH (c)-[bought:PURCHASED]->(:Product)-[:IN_CATEGORY]->(cat:Category)
WHERE personal AND NOT coalesce(bought.last_at > $at, false)
WITH s, c, anon, consents, personal, cat.id AS category, sum(bought.qty) AS qty
ORDER BY qty DESC, category
WITH s, c, anon, consents, personal, collect(category)[..3] AS categories
OPTIONAL MATCH (s)-[:VIEWED]->(seed:Product)-[sim:SIMILAR]->(rec:Product)
WHERE personal AND $at IS NULL
WITH s, c, anon, consents, personal, categories, rec, sim, seed
ORDER BY sim.score DESC, seed.id
WITH s, c, anon, consents, personal, categories, rec, max(sim.score) AS score,
  collect(coalesce(seed.name, seed.id))[0] AS because
ORDER BY score DESC, rec.id
WITH s, c, anon, consents, personal, categories,
  collect({id: rec.id, name: rec.name, score: score, because: because,
    bought: size([(c)-[:PURCHASED]->(rec) | 1]) > 0})[..$recs] AS similar
WITH s, c, anon, consents, personal, categories, similar,
  [(c)-[:HAD_SESSION]->(cv) WHERE personal AND cv.id <> s.id | [cv.started_at, cv.last_seen_at]]
  + [(anon)-[:HAD_SESSION]->(av) WHERE personal AND c IS NULL AND av.id <> s.id |
    [av.started_at, av.last_seen_at]] AS visits
WITH s, c, anon, consents, personal, categories, similar, visits,
  CASE WHEN $at IS NULL THEN c END AS c_now,
  CASE WHEN $at < s.last_seen_at THEN s END AS s_then,
  CASE WHEN personal AND ($at IS NOT NULL OR NOT any(v IN visits WHERE v[0] < s.started_at))
    THEN c END AS c_placed
RETURN
  s {.id, .channel, .device, .country, .started_at, .last_seen_at, .intent, .events, .views,
    .searches, .cart_adds, .checkouts, .purchases, .chats} AS session,
  c.id AS customer_id,
  anon.id AS anonymous_id,
  consents,
  personal,
  CASE
    WHEN NOT personal THEN null
    WHEN $at IS NULL THEN c {.ltv, .orders, .points, .country, .timezone, .first_seen_at,
      .last_seen_at, .rfm_r, .rfm_f, .rfm_m}
    ELSE c {
      points: CASE WHEN NOT coalesce(c.tier_at > $at, false) THEN c.points END,
      country: CASE WHEN NOT coalesce(c.country_at > $at OR c.profile_at > $at, false)
        THEN c.country END,
      timezone: CASE WHEN NOT coalesce(c.profile_at > $at, false) THEN c.timezone END,
      first_seen_at: CASE WHEN c.first_seen_at <= $at THEN c.first_seen_at END,
      last_seen_at: CASE WHEN c.last_seen_at <= $at THEN c.last_seen_at END}
  END AS customer,
  [(c)-[h:HAS_TIER]->(t) WHERE personal AND NOT coalesce(h.since > $at, false) |
    {name: t.name, since: h.since}] AS tiers,
  [(c_now)-[m:IN_SEGMENT]->(g) WHERE personal | {kind: g.kind, name: g.name, score: m.score}]
    AS segments,
  visits,
  [(c_placed)-[:PLACED]->(po)
    WHERE CASE WHEN $at IS NULL THEN po.at < s.started_at ELSE po.at <= $at END |
    [po.at, po.amount, po.purchased]] AS placed,
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
  [(c_now)-[rr:RECOMMENDED]->(rp) WHERE personal AND rr.rank IS NOT NULL AND rr.rank <= $recs |
    {id: rp.id, name: rp.name, score: rr.score, rank: rr.rank, reason: rr.reason,
      via: rr.via}] AS recommended,
  [(s_then)<-[:IN_SESSION]-(se) WHERE se.at <= $at |
    {id: se.id, type: se.type, at: se.at, query: CASE WHEN personal THEN se.query END,
      intent: CASE WHEN personal THEN se.intent END}]
    AS replay,
  [(s_then)<-[:IN_SESSION]-(sy)-[:ABOUT]->(sp)
    WHERE sy.at <= $at AND (sy.type IN ['add_to_cart', 'remove_from_cart']
      OR (personal AND sy.type = 'product_view')) |
    {event: sy.id, type: sy.type, at: sy.at, id: sp.id, name: sp.name, dwell_ms: sy.dwell_ms,
      qty: sy.qty, unit_price: sy.unit_price}] AS replay_products
