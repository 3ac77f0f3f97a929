"""The one placeholder rule of the catalogues: a translation keeps its message's `{names}`."""

from __future__ import annotations

import string
from collections.abc import Sequence


def names(text: str) -> set[str]:
    """The `{placeholder}` names of a message ('{value:g} %' → {'value'})."""
    return {name for _lit, name, _spec, _conv in string.Formatter().parse(text) if name is not None}


def mismatched(ids: Sequence[str], translations: Sequence[str]) -> list[str]:
    """Translations whose placeholders differ from their message's (a plural may drop `{n}`)."""
    wanted = set().union(*(names(i) for i in ids))
    optional = {"n"} if len(ids) > 1 else set()
    return [t for t in translations if t and not wanted - optional <= names(t) <= wanted]
