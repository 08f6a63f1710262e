// purpose: events outside any session (consent, profile, loyalty) older than the cut-off.
//   Consent events stay: the consent history is kept as long as the customer is.
// mode: read
// params: $before, $limit
MATCH (e:Event)
WHERE e.at < $before AND e.type <> 'consent_changed' AND NOT (e)-[:IN_SESSION]->()
RETURN e.id AS id
LIMIT $limit
