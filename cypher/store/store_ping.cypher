// purpose: liveness check used by the store and /readyz.
// mode: read
// params: none
RETURN 1 AS ok
