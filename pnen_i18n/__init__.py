"""Message catalogues: every user-facing sentence is an English message id, translated per request.

Rules, mappings and card builders write their text in English through `_()` (or `ngettext()` for
counted nouns), with named `{placeholders}` instead of string concatenation:

    _("abdominal CT or MRI within {months} months", months=interval)

`use_locale("zh-CN")` makes everything below it in the same thread (one request) speak that
locale; without it, or in English, `_()` returns the message id itself, formatted — English output
is exactly the text in the code. Text built at import time is marked with `N_()` and translated
where it is used (`_(HIGH_RISK)`). Catalogues live in `pnen_i18n/locale/<ll_CC>/LC_MESSAGES/`
(`make messages` extracts, updates and compiles them with Babel).
"""

from __future__ import annotations

import gettext
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from functools import cache
from pathlib import Path
from typing import Any

DEFAULT_LOCALE = "en"
SUPPORTED_LOCALES = ("en", "zh-CN")
"""Locales with a catalogue ('en' is the source text itself), as BCP 47 tags."""
DOMAIN = "messages"
LOCALE_DIR = Path(__file__).parent / "locale"

# Language tags that mean a supported locale (lower case). Traditional-script Chinese (zh-TW,
# zh-HK, zh-Hant) is not Simplified Chinese: it falls through to the next choice or English.
_ALIASES: Mapping[str, str] = {
    "en": "en",
    "zh": "zh-CN",
    "zh-cn": "zh-CN",
    "zh-sg": "zh-CN",
    "zh-hans": "zh-CN",
    "zh-hans-cn": "zh-CN",
    "zh-hans-sg": "zh-CN",
}

_active: ContextVar[gettext.NullTranslations | None] = ContextVar("pnen_translations", default=None)
_active_locale: ContextVar[str] = ContextVar("pnen_locale", default=DEFAULT_LOCALE)


def _(message: str, /, **values: Any) -> str:
    """The message in the current locale, its `{placeholders}` filled from `values`."""
    translations = _active.get()
    if translations is not None:
        message = translations.gettext(message)
    return message.format_map(values) if values else message


def ngettext(singular: str, plural: str, n: int, /, **values: Any) -> str:
    """The singular or plural message for `n` in the current locale; `{n}` and `values` filled."""
    translations = _active.get()
    if translations is None:
        text = singular if n == 1 else plural
    else:
        text = translations.ngettext(singular, plural, n)
    return text.format(n=n, **values)


def N_(message: str, /) -> str:  # noqa: N802 - the gettext convention extractors know
    """Mark text built at import time for the catalogue; translate it with `_()` where used."""
    return message


def canonical(tag: str | None) -> str | None:
    """The supported locale a language tag names ('zh-Hans-CN' → 'zh-CN'), or None."""
    if not tag:
        return None
    key = tag.strip().replace("_", "-").lower()
    while key:
        if key in _ALIASES:
            return _ALIASES[key]
        if key.startswith("en-"):
            return "en"
        if key in ("zh-tw", "zh-hk", "zh-mo", "zh-hant") or key.startswith("zh-hant"):
            return None
        key = key.rpartition("-")[0]
    return None


def negotiate(accept_language: str | None, default: str = DEFAULT_LOCALE) -> str:
    """The locale for a request: the best supported entry of `Accept-Language`, else `default`.

    Entries are taken by their q-value (highest first, header order between equals); q=0 refuses
    a language; '*' accepts the default. An unsupported or malformed header gives the default.
    """
    choices: list[tuple[float, int, str]] = []
    for position, part in enumerate((accept_language or "").split(",")):
        tag, _sep, params = part.strip().partition(";")
        quality = 1.0
        for param in params.split(";"):
            name, _eq, value = param.strip().partition("=")
            if name.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        if tag and quality > 0:
            choices.append((-quality, position, tag.strip()))
    for _q, _position, tag in sorted(choices):
        if tag == "*":
            return default
        locale = canonical(tag)
        if locale is not None:
            return locale
    return default


@cache
def translations(locale: str) -> gettext.NullTranslations | None:
    """The compiled catalogue of a supported locale (None for English: the source text)."""
    if locale == DEFAULT_LOCALE:
        return None
    if locale not in SUPPORTED_LOCALES:
        raise ValueError(
            f"unsupported locale {locale!r}; supported: {', '.join(SUPPORTED_LOCALES)}"
        )
    path = LOCALE_DIR / locale.replace("-", "_") / "LC_MESSAGES" / f"{DOMAIN}.mo"
    with path.open("rb") as handle:
        return gettext.GNUTranslations(handle)


@contextmanager
def use_locale(locale: str) -> Iterator[str]:
    """Speak `locale` (a supported one) in this thread until the block ends; yields it."""
    tokens = (_active.set(translations(locale)), _active_locale.set(locale))
    try:
        yield locale
    finally:
        _active_locale.reset(tokens[1])
        _active.reset(tokens[0])


def current_locale() -> str:
    """The locale the current request speaks ('en' outside `use_locale`)."""
    return _active_locale.get()


SEMICOLON = N_("; ")
"""Between the items of a list of facts or titles ('；' in Chinese)."""
COMMA = N_(", ")
"""Between short items such as question numbers ('、' in Chinese)."""


def joined(items: Iterable[str], separator: str = SEMICOLON) -> str:
    """The items as one list in the current locale's punctuation."""
    translations = _active.get()  # `_(separator)` inlined: lists are joined ~35 times a request
    return (translations.gettext(separator) if translations else separator).join(items)
