"""`python -m api.cli` runs the `ckg` command line."""

from api.cli import main

main()
