// purpose: session_context.cypher for many sessions in one round trip: one row per known id
//   in $session_ids (unknown ids give no row; `session.id` tells the rows apart), each row
//   exactly what session_context.cypher returns for that id, with the same consent rule, the
//   same replay as of $at and the same FalkorDB 4.16 workarounds (see that file). The text is
//   that file's, with two changes a test holds it to: the ids are unwound, and instead of
//   `LIMIT 1` (which would limit the whole batch) the first owner's and anonymous identity's
//   ids per session are collected and matched again (FalkorDB 4.16 does not take a node
//   taken out of a collected list as a pattern's start: "expected Node").
// mode: read
// params: $session_ids, $purpose, $recs, $at
UNWIND $session_ids AS session_id
MATCH (s:Session {id: session_id})
OPTIONAL MATCH (s)<-[:HAD_SESSION]-(owner:Customer)
OPTIONAL MATCH (s)<-[:HAD_SESSION]-(anon:Identity)
OPTIONAL MATCH (anon)<-[:IDENTIFIED_BY]-(linked:Customer)
WITH s, collect(coalesce(owner, linked).id)[0] AS c_id, collect(anon.id)[0] AS anon_id
OPTIONAL MATCH (c:Customer {id: c_id})
OPTIONAL MATCH (anon:Identity {id: anon_id})
WITH s, c, anon
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
