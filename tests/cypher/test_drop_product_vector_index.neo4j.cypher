// purpose: test isolation on a single database: drop the product vector index a test created, so
//   the next test (or the next run on the same server) starts from the base schema.
// mode: write
// params: none
DROP INDEX product_embedding IF EXISTS
