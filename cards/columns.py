"""Plain-text layout by display columns: a Chinese character takes two, a Latin letter one.

The `evaluate` report wraps and aligns text for a terminal or a printout. `textwrap` counts
characters and breaks only at spaces, so a Chinese sentence (no spaces, double-width characters)
would run twice the page width. Text with no wide character goes to `textwrap` unchanged (English
output is exactly as before); text with one is broken between wide characters or at spaces, never
before closing punctuation.
"""

from __future__ import annotations

import re
import textwrap
import unicodedata

_TOKENS = re.compile(
    r"\s+|[\u2e80-\u9fff\uf900-\ufaff\uff00-\uffef\u3000-\u303f]|[^\s\u2e80-\u9fff\uf900-\ufaff\uff00-\uffef\u3000-\u303f]+"
)
# Never at the start of a line: closing punctuation stays with what it closes.
_CLOSING = frozenset("，。；：、）」』】》！？,.;:)%")


def width(text: str) -> int:
    """Columns the text takes: two for East Asian wide and full-width characters."""
    if text.isascii():
        return len(text)
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def pad(text: str, columns: int) -> str:
    """The text left-aligned in `columns` display columns."""
    return text + " " * max(columns - width(text), 0)


def wrap(
    text: str,
    columns: int,
    *,
    initial_indent: str = "",
    subsequent_indent: str = "",
    break_on_hyphens: bool = True,
) -> list[str]:
    """Lines of at most `columns` display columns (as textwrap.wrap for text without wide ones)."""
    if width(text) == len(text):
        return textwrap.wrap(
            text,
            width=columns,
            initial_indent=initial_indent,
            subsequent_indent=subsequent_indent,
            break_on_hyphens=break_on_hyphens,
        )
    lines: list[str] = []
    line, indent = "", initial_indent
    for token in _TOKENS.findall(" ".join(text.split())):
        room = columns - width(indent)
        if token.isspace():
            if line:
                line += " "
            continue
        if width(line + token) <= room or not line.strip() or token in _CLOSING:
            line = (line if line.strip() else "") + token
            continue
        lines.append(indent + line.rstrip())
        line, indent = token, subsequent_indent
    if line.strip():
        lines.append(indent + line.rstrip())
    return lines
