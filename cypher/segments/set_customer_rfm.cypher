// purpose: store each customer's R, F, M scores (1-5); rows are {id, r, f, m}.
// mode: write
// params: $rows
UNWIND $rows AS r
MATCH (c:Customer {id: r.id})
SET c.rfm_r = r.r, c.rfm_f = r.f, c.rfm_m = r.m
