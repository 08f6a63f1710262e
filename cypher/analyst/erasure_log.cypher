// purpose: erasure receipts since a time, oldest first, each with the privacy requests that
//   answered with it (the erasure, and any repeat of it): receipt id, when, the counts of what
//   was deleted (JSON text), whether verification found nothing left, the receipt it followed,
//   when its suppression was lifted, and each request's actor, time, outcome and duration.
//   Only what a receipt keeps: no subject data, not even its keyed hash.
// mode: read
// params: $since — epoch ms, receipts at or after it (in Neo4j Browser: :param since => 0)
MATCH (e:Erasure)
WHERE e.at >= $since
OPTIONAL MATCH (a:Audit)
WHERE a.receipt = e.id
RETURN e.id AS receipt, e.at AS erased_at, e.counts AS counts, e.verified AS verified,
  e.previous AS previous_receipt, e.lifted_at AS lifted_at, a.id AS request, a.action AS action,
  a.actor AS actor, a.at AS requested_at, a.outcome AS outcome, a.duration_ms AS duration_ms
ORDER BY erased_at, receipt, requested_at, request
LIMIT 1000
