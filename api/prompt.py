"""The context as a compact prompt snippet that never exceeds a token budget.

No tokenizer ships offline for every model a bot may use, so tokens are counted with a
deliberately pessimistic estimator: at worst one token per two letters of an all-capitals word
and per three of any other word or number, one per punctuation mark and per line break, and one
per UTF-8 byte outside ASCII (byte-level BPE cannot do worse). GPT-style tokenizers spend fewer,
so a snippet that fits by this count fits the model's budget.
Sections go in priority order and each takes whole items while they fit, so a small budget keeps
what matters most (who, what now, what to say) and drops the tail.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence

_PIECES = re.compile(r"[A-Za-z]+|[0-9]+|\n|[ \t]+|[\x21-\x7e]|[^\x00-\x7f]")


def count_tokens(text: str) -> int:
    n = 0
    for m in _PIECES.finditer(text):
        piece = m.group()
        c = piece[0]
        if c.isascii() and c.isalpha():
            n += math.ceil(len(piece) / (2 if piece.isupper() and len(piece) > 1 else 3))
        elif c.isdigit():
            n += math.ceil(len(piece) / 3)
        elif c in " \t":
            n += 0 if piece == " " else 1
        elif c.isascii():
            n += 1
        else:
            n += len(piece.encode("utf-8"))
    # anything the pattern skipped (control characters) counts one token per character
    return n + sum(1 for ch in text if ch < " " and ch != "\n" and ch != "\t")


class Section:
    """One line: a label and items, of which as many as fit are kept, in order."""

    def __init__(self, label: str, items: Sequence[str], sep: str = "; ") -> None:
        self.label = label
        self.items = [i for i in items if i]
        self.sep = sep


def render(sections: Sequence[Section], max_tokens: int) -> str:
    """Greedy fill in priority order; a first line that alone is too long is cut word by word."""
    lines: list[str] = []
    used = 0
    for section in sections:
        if not section.items:
            continue
        newline = 1 if lines else 0
        head = f"{section.label}: " if section.label else ""
        line = ""
        for item in section.items:
            candidate = head + item if not line else line + section.sep + item
            if used + newline + count_tokens(candidate) > max_tokens:
                break
            line = candidate
        if not line and not lines:
            line = _cut(head + section.items[0], max_tokens)
        if line:
            lines.append(line)
            used += newline + count_tokens(line)
    return "\n".join(lines)


def _cut(text: str, budget: int) -> str:
    words = text.split(" ")
    while words:
        candidate = " ".join(words) + " …"
        if count_tokens(candidate) <= budget:
            return candidate
        words.pop()
    return ""
