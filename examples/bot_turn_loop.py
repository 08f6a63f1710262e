"""A plain chatbot turn loop over ckg: per user turn, read the session's prompt snippet and say
what it tells the bot to (the top triggers, after a greeting on the first turn) and offer its
first suggestion.

A real bot pastes the snippet into its model's prompt (`--show-snippet` prints it); this loop
reads the snippet's `Say:` and `Offer:` lines itself, so it runs with nothing but the client.
User turns are stdin lines, or the `--turns` arguments:

    CKG_API_URL=http://127.0.0.1:8000 CKG_API_KEY=<chatbot:read key> \\
        python examples/bot_turn_loop.py --session retail:536365 --turns "hi" "any offers?"

An unknown session is greeted without context; a refused key or an unreachable API stops the
loop with exit status 1.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from collections.abc import Iterable, Iterator, Sequence

from api.client import CkgApiError, CkgClient, ContextOptions, NotFoundError

GREETING = "Hello!"
FALLBACK = "How can I help you today?"
# an Offer item is "Name (product id; reason)"; items are joined by "; "
_FIRST_OFFER = re.compile(r"^(?P<name>.+?) \((?P<id>[^;()]+); ")


def section(snippet: str, label: str) -> str | None:
    """The text of the snippet's line `<label>: ...`, if it has one."""
    head = f"{label}: "
    return next((ln[len(head) :] for ln in snippet.splitlines() if ln.startswith(head)), None)


def reply(snippet: str | None, first: bool) -> list[str]:
    """What the bot prints for one turn: the words to say, then the offer if there is one."""
    say = section(snippet, "Say") if snippet else None
    words = " ".join(w for w in (GREETING if first else "", say or FALLBACK) if w)
    lines = [f"bot: {words}"]
    offer = section(snippet, "Offer") if snippet else None
    found = _FIRST_OFFER.match(offer) if offer else None
    if found:
        lines.append(f"offer: {found['name']} ({found['id']})")
    return lines


def turns(given: Sequence[str] | None, stdin: Iterable[str]) -> Iterator[str]:
    if given:
        yield from given
        return
    for line in stdin:
        if line.strip():
            yield line.strip()


def run(args: argparse.Namespace) -> int:
    opts = ContextOptions(max_tokens=args.max_tokens)
    with CkgClient(args.url, args.key) as ckg:
        for n, turn in enumerate(turns(args.turns, sys.stdin)):
            print(f"you: {turn}")
            try:
                snippet: str | None = ckg.context_text(args.session, opts)
            except NotFoundError:
                snippet = None  # no such session (yet): greet without context
            except CkgApiError as exc:
                print(f"ckg: {exc}", file=sys.stderr)
                return 1
            if args.show_snippet and snippet:
                print("".join(f"  | {ln}\n" for ln in snippet.splitlines()), end="")
            for line in reply(snippet, first=n == 0):
                print(line)
            sys.stdout.flush()
    return 0


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    p.add_argument("--url", default=os.environ.get("CKG_API_URL", "http://127.0.0.1:8000"))
    p.add_argument("--key", default=os.environ.get("CKG_API_KEY"), help="chatbot:read key")
    p.add_argument("--session", required=True, help="the ckg session id")
    p.add_argument("--max-tokens", type=int, default=400, help="the snippet's budget")
    p.add_argument("--turns", nargs="+", help="user turns (default: stdin lines)")
    p.add_argument("--show-snippet", action="store_true", help="print each turn's snippet")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    if not args.key:
        parser().error("--key or CKG_API_KEY is required")
    return run(args)


if __name__ == "__main__":
    sys.exit(main())
