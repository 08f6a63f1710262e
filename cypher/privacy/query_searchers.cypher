// purpose: how many sessions searched each query: a query only the erased person searched goes
//   with them, one that others searched too is shared and stays.
// mode: read
// params: $ids
UNWIND $ids AS x
MATCH (q:Query {id: x})<-[:SEARCHED]-(s)
RETURN x AS id, count(s) AS searchers
