"""Advice paragraphs built sentence by sentence, spaced as the current locale writes them."""

from __future__ import annotations

from pnen_i18n import _


def then(text: str, *sentences: str) -> str:
    """`text` followed by each sentence: a space between sentences in English, none in Chinese."""
    for sentence in sentences:
        # The catalogue decides the gap: Chinese sentences end in '。' and take no space.
        text = _("{text} {sentence}", text=text, sentence=sentence) if text else sentence
    return text


def percent(value: float | str) -> str:
    """'5 %': a percentage as the locale writes it."""
    # One message for every percentage in running text, so that a locale writes them one way.
    return _("{value} %", value=value)
