// purpose: mark events as outliers (ingest/outliers.py has the rule), never unmark: the fields
//   already flagged and the new ones are kept, in the canonical order of $fields, so the result
//   does not depend on which load flagged what first.
// mode: write
// params: $rows — list of {id, fields}; $fields — every field name in canonical order; $rule
UNWIND $rows AS r
MATCH (e:Event {id: r.id})
SET e.outlier = true,
  e.outlier_fields = [f IN $fields WHERE f IN r.fields OR f IN coalesce(e.outlier_fields, [])],
  e.outlier_rule = $rule
RETURN count(e) AS marked
