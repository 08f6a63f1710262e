// purpose: net spend of every customer who placed an order, the M of RFM.
// mode: read
// params: none
MATCH (c:Customer)
WHERE c.orders > 0
RETURN c.id AS customer, c.ltv AS ltv
