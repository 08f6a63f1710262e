"""`python -m api.graphql`: write the schema's SDL to api/graphql/schema.graphql (the contract
a test holds the code to); `make graphql-schema` runs it."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

from api.graphql.schema import schema

logger = logging.getLogger(__name__)

SDL_FILE = Path(__file__).with_name("schema.graphql")


def sdl() -> str:
    return schema.as_str() + "\n"


def main() -> int:
    SDL_FILE.write_text(sdl(), encoding="utf-8")
    print(f"wrote {SDL_FILE}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
