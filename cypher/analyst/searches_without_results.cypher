// purpose: the search terms that found nothing most often since a time: searches whose source
//   reported zero results, grouped by their text (lower case, outer spaces trimmed), with how
//   many searches and sessions, and the last time. Searches sent without a result count are
//   not counted.
// mode: read
// params: $since — epoch ms, searches at or after it (in Neo4j Browser: :param since => 0); $limit — how many terms (:param limit => 20)
MATCH (e:Event)
WHERE e.at >= $since AND e.type = 'search' AND e.results = 0
OPTIONAL MATCH (e)-[:IN_SESSION]->(s:Session)
WITH toLower(trim(e.query)) AS term, e, s
RETURN term, count(e) AS searches, count(DISTINCT s) AS sessions, max(e.at) AS last_searched_at
ORDER BY searches DESC, term
LIMIT $limit
