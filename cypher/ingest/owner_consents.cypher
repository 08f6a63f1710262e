// purpose: the consent records for one purpose of the owners in a batch (customers with their
//   aliases' records, identities with the records of the customer they are linked to), so the
//   loader can apply the consent rule of graph/consent.py before storing behavioural events.
// mode: read
// params: $customers, $identities, $purpose
UNWIND $customers AS cid
MATCH (c:Customer {id: cid})
RETURN 'c:' + cid AS owner,
  [(c)-[:HAS_CONSENT]->(own) WHERE own.purpose = $purpose |
    own {.purpose, .granted, .at, .source}]
  + [(c)-[:IDENTIFIED_BY]->()-[:HAS_CONSENT]->(alias) WHERE alias.purpose = $purpose |
    alias {.purpose, .granted, .at, .source}] AS consents
UNION ALL
UNWIND $identities AS iid
MATCH (i:Identity {id: iid})
RETURN 'i:' + iid AS owner,
  [(i)-[:HAS_CONSENT]->(visitor) WHERE visitor.purpose = $purpose |
    visitor {.purpose, .granted, .at, .source}]
  + [(i)<-[:IDENTIFIED_BY]-()-[:HAS_CONSENT]->(linked) WHERE linked.purpose = $purpose |
    linked {.purpose, .granted, .at, .source}] AS consents
