// purpose: write one batch of new events and everything derived from them, atomically (one
//   statement): owners, sessions, products, events with their order and products (ABOUT; the
//   PURCHASED aggregate of a customer and product rides on one event's entry for that product:
//   `bought[i]` ([count, qty, amount, last_at]) beside `products[i]` for the first products, so
//   each line finds its product once; the lists are bound once per event, as `r.products[i]`
//   would copy the list per line), orders and customer facts, consents. Events outside a
//   session hang off their owner (HAD_EVENT). Each bulk section is
//   `UNWIND $list ... WITH count(*) AS _`: the count puts the statement back on one row, so an
//   empty list never stops it; small sections are FOREACH.
//   Deletions use MERGE-then-DELETE.
//   Every update is commutative or "latest event time wins" (a `*_at` beside the value), so
//   the graph is the same whatever order or batch split the events arrive in. Money sums are
//   rounded to 4 decimals so float addition order cannot show. FalkorDB rules that shape it: a
//   relationship appears at most once per list (FalkorDB defers relationship property updates
//   inside FOREACH), and no SET item reads a property that another write of the same row made
//   (within one SET, every `*_at` is assigned after the values that compare with it).
// mode: write
// params: $customers, $identities, $sessions, $products, $events, $links, $unlinks, $firsts, $viewed, $searched, $cart, $orders, $consents, $profiles, $tiers, $loyalty
UNWIND $customers AS r
MERGE (c:Customer {id: r.id})
ON CREATE SET c.ltv = 0.0, c.orders = 0, c.points = 0
SET c.first_seen_at = CASE WHEN c.first_seen_at < r.first_at THEN c.first_seen_at ELSE r.first_at END,
  c.created_at = CASE WHEN c.first_seen_at < r.first_at THEN c.first_seen_at ELSE r.first_at END,
  c.last_seen_at = CASE WHEN c.last_seen_at > r.last_at THEN c.last_seen_at ELSE r.last_at END,
  c.country = CASE WHEN r.country IS NOT NULL AND NOT coalesce(c.country_at, -1) > r.country_at
    THEN r.country ELSE c.country END,
  c.country_at = CASE WHEN r.country IS NOT NULL AND NOT coalesce(c.country_at, -1) > r.country_at
    THEN r.country_at ELSE c.country_at END
WITH count(*) AS _customers
FOREACH (r IN $identities |
  MERGE (i:Identity {id: r.id})
  ON CREATE SET i.kind = r.kind
  FOREACH (cid IN r.link_to |
    MERGE (c:Customer {id: cid})
    MERGE (c)-[:IDENTIFIED_BY]->(i)
    SET i.linked_at = CASE WHEN i.linked_at < r.at THEN i.linked_at ELSE r.at END
  )
  FOREACH (sid IN r.move_sessions |
    MERGE (s:Session {id: sid})
    MERGE (i)-[h:HAD_SESSION]->(s)
    DELETE h
    FOREACH (cid IN r.link_to |
      MERGE (c:Customer {id: cid})
      MERGE (c)-[:HAD_SESSION]->(s)
    )
  )
)
WITH count(*) AS _identities
UNWIND $products AS r
MERGE (p:Product {id: r.id})
SET p.name = CASE WHEN r.name IS NOT NULL AND NOT coalesce(p.name_at, -1) > r.name_at
    THEN r.name ELSE p.name END,
  p.name_at = CASE WHEN r.name IS NOT NULL AND NOT coalesce(p.name_at, -1) > r.name_at
    THEN r.name_at ELSE p.name_at END,
  p.price = CASE WHEN r.price IS NOT NULL AND NOT coalesce(p.price_at, -1) > r.price_at
    THEN r.price ELSE p.price END,
  p.currency = CASE WHEN r.price IS NOT NULL AND NOT coalesce(p.price_at, -1) > r.price_at
    THEN r.currency ELSE p.currency END,
  p.price_at = CASE WHEN r.price IS NOT NULL AND NOT coalesce(p.price_at, -1) > r.price_at
    THEN r.price_at ELSE p.price_at END
FOREACH (cat IN r.categories |
  MERGE (k:Category {id: cat})
  MERGE (p)-[:IN_CATEGORY]->(k)
)
WITH count(*) AS _products
UNWIND $sessions AS r
MERGE (s:Session {id: r.id})
ON CREATE SET s.events = 0, s.views = 0, s.searches = 0, s.cart_adds = 0, s.checkouts = 0,
  s.purchases = 0, s.chats = 0
SET s.channel = CASE WHEN coalesce(s.started_at, r.first_at + 1) > r.first_at
    THEN r.channel ELSE s.channel END,
  s.device = CASE WHEN coalesce(s.started_at, r.first_at + 1) > r.first_at
    THEN r.device ELSE s.device END,
  s.country = CASE WHEN coalesce(s.started_at, r.first_at + 1) > r.first_at
    THEN r.country ELSE s.country END,
  s.started_at = CASE WHEN coalesce(s.started_at, r.first_at + 1) > r.first_at
    THEN r.first_at ELSE s.started_at END,
  s.last_seen_at = CASE WHEN s.last_seen_at > r.last_at THEN s.last_seen_at ELSE r.last_at END,
  s.events = s.events + r.events, s.views = s.views + r.views,
  s.searches = s.searches + r.searches, s.cart_adds = s.cart_adds + r.cart_adds,
  s.checkouts = s.checkouts + r.checkouts, s.purchases = s.purchases + r.purchases,
  s.chats = s.chats + r.chats,
  s.intent = CASE
    WHEN s.purchases + r.purchases > 0 THEN 'purchased'
    WHEN s.checkouts + r.checkouts > 0 THEN 'checkout'
    WHEN s.cart_adds + r.cart_adds > 0 THEN 'cart'
    WHEN s.searches + r.searches > 0 THEN 'search'
    WHEN s.views + r.views > 0 THEN 'browse'
    WHEN s.chats + r.chats > 0 THEN 'support'
    ELSE 'visit' END
FOREACH (cid IN r.customer |
  MERGE (c:Customer {id: cid})
  MERGE (c)-[:HAD_SESSION]->(s)
)
FOREACH (iid IN r.identity |
  MERGE (i:Identity {id: iid})
  MERGE (i)-[:HAD_SESSION]->(s)
)
WITH count(*) AS _sessions
UNWIND $events AS r
CREATE (e:Event {id: r.id, type: r.type, at: r.at})
SET e += r.props
FOREACH (sid IN r.session |
  MERGE (s:Session {id: sid})
  CREATE (e)-[:IN_SESSION]->(s)
  FOREACH (f IN CASE WHEN r.first THEN [1] ELSE [] END |
    CREATE (s)-[:FIRST]->(e)
  )
)
FOREACH (cid IN r.customer |
  MERGE (c:Customer {id: cid})
  CREATE (c)-[:HAD_EVENT]->(e)
)
FOREACH (iid IN r.identity |
  MERGE (i:Identity {id: iid})
  CREATE (i)-[:HAD_EVENT]->(e)
)
WITH e, r
OPTIONAL MATCH (buyer:Customer {id: r.buyer})
WITH e, r.products AS products, r.bought AS bought, buyer
UNWIND range(0, size(products) - 1) AS i
MATCH (p:Product {id: products[i]})
CREATE (e)-[:ABOUT]->(p)
FOREACH (b IN CASE WHEN buyer IS NULL OR i >= size(bought) THEN [] ELSE [bought[i]] END |
  MERGE (buyer)-[x:PURCHASED]->(p)
  ON CREATE SET x.count = 0, x.qty = 0, x.amount = 0.0
  SET x.count = x.count + b[0], x.qty = x.qty + b[1],
    x.amount = round((x.amount + b[2]) * 10000) / 10000.0,
    x.last_at = CASE WHEN x.last_at > b[3] THEN x.last_at ELSE b[3] END
)
WITH count(*) AS _events
FOREACH (r IN $unlinks |
  MERGE (a:Event {id: r.a})
  MERGE (b:Event {id: r.b})
  MERGE (a)-[x:NEXT]->(b)
  DELETE x
)
FOREACH (r IN $links |
  MERGE (a:Event {id: r.a})
  MERGE (b:Event {id: r.b})
  MERGE (a)-[:NEXT]->(b)
)
FOREACH (r IN $firsts |
  MERGE (s:Session {id: r.session})
  FOREACH (old IN r.old |
    MERGE (o:Event {id: old})
    MERGE (s)-[x:FIRST]->(o)
    DELETE x
  )
  MERGE (e:Event {id: r.first})
  MERGE (s)-[:FIRST]->(e)
)
FOREACH (r IN $viewed |
  MERGE (s:Session {id: r.session})
  MERGE (p:Product {id: r.product})
  MERGE (s)-[v:VIEWED]->(p)
  ON CREATE SET v.count = 0
  SET v.count = v.count + r.count,
    v.dwell_ms = CASE WHEN r.dwell_ms IS NULL THEN v.dwell_ms
      ELSE coalesce(v.dwell_ms, 0) + r.dwell_ms END,
    v.last_at = CASE WHEN v.last_at > r.last_at THEN v.last_at ELSE r.last_at END
)
FOREACH (r IN $searched |
  MERGE (s:Session {id: r.session})
  MERGE (q:Query {id: r.query})
  ON CREATE SET q.text = r.query
  MERGE (s)-[x:SEARCHED]->(q)
  ON CREATE SET x.count = 0
  SET x.count = x.count + r.count,
    x.last_at = CASE WHEN x.last_at > r.last_at THEN x.last_at ELSE r.last_at END
)
FOREACH (r IN $cart |
  MERGE (s:Session {id: r.session})
  MERGE (k:Cart {id: r.session})
  MERGE (s)-[:HAS_CART]->(k)
  MERGE (p:Product {id: r.product})
  MERGE (k)-[x:CONTAINS]->(p)
  ON CREATE SET x.qty = 0
  SET x.qty = x.qty + r.qty,
    k.updated_at = CASE WHEN k.updated_at > r.at THEN k.updated_at ELSE r.at END
  FOREACH (price IN CASE WHEN r.unit_price IS NOT NULL AND NOT coalesce(x.price_at, -1) > r.price_at
      THEN [r.unit_price] ELSE [] END |
    SET x.unit_price = price, x.price_at = r.price_at
  )
)
WITH count(*) AS _chains
UNWIND $orders AS r
MERGE (o:Order {id: r.id})
ON CREATE SET o.amount = 0.0, o.cancelled = false, o.purchased = false
SET o.at = CASE WHEN o.at < r.at THEN o.at ELSE r.at END,
  o.currency = coalesce(o.currency, r.currency)
FOREACH (cid IN r.customer |
  MERGE (c:Customer {id: cid})
  MERGE (c)-[:PLACED]->(o)
  SET c.ltv = round((c.ltv + r.amount) * 10000) / 10000.0,
    c.orders = c.orders + CASE WHEN r.purchase AND NOT o.purchased THEN 1 ELSE 0 END
)
SET o.amount = round((o.amount + r.amount) * 10000) / 10000.0,
  o.cancelled = o.cancelled OR r.cancelled, o.purchased = o.purchased OR r.purchase
WITH count(*) AS _orders
UNWIND $consents AS r
CREATE (k:Consent {id: r.id, purpose: r.purpose, granted: r.granted, at: r.at,
  source: r.source})
FOREACH (cid IN r.customer |
  MERGE (c:Customer {id: cid})
  CREATE (c)-[:HAS_CONSENT]->(k)
)
FOREACH (iid IN r.identity |
  MERGE (i:Identity {id: iid})
  CREATE (i)-[:HAS_CONSENT]->(k)
)
WITH count(*) AS _consents
FOREACH (r IN $profiles |
  FOREACH (cid IN r.customer |
    MERGE (c:Customer {id: cid})
    FOREACH (latest IN CASE WHEN NOT coalesce(c.profile_at, -1) > r.at THEN [1] ELSE [] END |
      SET c += r.fields, c.profile_at = r.at
    )
  )
  FOREACH (iid IN r.identity |
    MERGE (i:Identity {id: iid})
    FOREACH (latest IN CASE WHEN NOT coalesce(i.profile_at, -1) > r.at THEN [1] ELSE [] END |
      SET i += r.fields, i.profile_at = r.at
    )
  )
)
FOREACH (r IN $tiers |
  MERGE (t:LoyaltyTier {id: r})
  ON CREATE SET t.name = r, t.rank = 0
)
FOREACH (r IN $loyalty |
  MERGE (c:Customer {id: r.customer})
  FOREACH (latest IN CASE WHEN NOT coalesce(c.tier_at, -1) > r.at THEN [1] ELSE [] END |
    SET c.points = r.points, c.tier_at = r.at
    FOREACH (old IN r.old_tiers |
      MERGE (o:LoyaltyTier {id: old})
      MERGE (c)-[x:HAS_TIER]->(o)
      DELETE x
    )
    MERGE (t:LoyaltyTier {id: r.tier})
    MERGE (c)-[h:HAS_TIER]->(t)
    SET h.since = r.at
  )
)
RETURN size($events) AS events
