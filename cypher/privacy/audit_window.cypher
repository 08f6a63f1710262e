// purpose: the privacy requests received in a time window (start inclusive, end exclusive), for
//   the requests report.
// mode: read
// params: $start, $end
MATCH (a:Audit)
WHERE a.at >= $start AND a.at < $end
RETURN a.action AS action, a.outcome AS outcome, a.duration_ms AS duration_ms,
  a.purposes_withdrawn AS purposes_withdrawn
