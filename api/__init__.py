"""Ways in: the HTTP API (FastAPI) and the `ckg` command line."""
