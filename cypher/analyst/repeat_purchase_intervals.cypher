// purpose: how long customers take to buy again: the whole days between each order and the
//   same customer's order before it (orders a purchase placed, whole-order cancellations
//   left out; ties in time by order id), as a distribution: days, how many intervals, how many
//   customers.
// mode: read
// params: none
MATCH (c:Customer)-[:PLACED]->(o:Order)
WHERE o.purchased AND NOT o.cancelled
WITH c, collect([o.at, o.id]) AS orders
WHERE size(orders) > 1
UNWIND orders AS cur
WITH c, cur,
  reduce(b = [-1, ''], x IN orders |
    CASE WHEN (x[0] < cur[0] OR (x[0] = cur[0] AND x[1] < cur[1]))
      AND (x[0] > b[0] OR (x[0] = b[0] AND x[1] > b[1])) THEN x ELSE b END) AS before
WHERE before[0] >= 0
WITH c, (cur[0] - before[0]) / 86400000 AS days
RETURN days, count(*) AS intervals, count(DISTINCT c) AS customers
ORDER BY days
LIMIT 1000
