"""The readable text of a DiagnosticReport: conclusion, conclusionCode and presentedForm.

Attachments are read only when they are text (text/plain, text/html; base64 `data`), up to
MAX_TEXT decoded bytes, in their declared charset, else UTF-8, else GB 18030 (Chinese systems).
A URL is never fetched (references are not fetched one by one). Text is NFKC-normalised: full-width
digits and punctuation (１５％，（）) become ASCII.
"""

from __future__ import annotations

import base64
import binascii
import html
import re
from typing import Any

from fhir_mappings.context import normalize
from fhir_mappings.shape import all_text, objects, string
from pnen_i18n import _

MAX_TEXT = 512 * 1024
"""Largest attachment read (decoded bytes): a pathology report is a few kB; more is not text."""
_MAX_BASE64 = MAX_TEXT * 4 // 3 + 4
_TEXT_TYPES = frozenset({"text/plain", "text/html", "application/xhtml+xml"})
# Tag patterns stop at the next '<': every scan is linear, whatever the markup (no backtracking
# over a hostile attachment).
_BLOCK_TAG = re.compile(
    r"<\s*/?\s*(?:br|p|div|tr|li|h[1-6]|table|ul|ol)\b[^<>]{0,2000}>", re.IGNORECASE
)
# Inline markup inside a word or number ("Ki<span>-</span>67", "<b>25</b>%") joins, not spaces.
_INLINE_TAG = re.compile(
    r"<\s*/?\s*(?:span|b|i|u|em|strong|font|sup|sub|small|mark|a|abbr)\b[^<>]{0,2000}>",
    re.IGNORECASE,
)
_TAG = re.compile(r"<[^<>]{0,2000}>")
_CHARSET = re.compile(r"charset\s*=\s*\"?([\w.:-]+)", re.IGNORECASE)


def _without_scripts(markup: str) -> str:
    """The markup without <script> and <style> elements (an unclosed one runs to the end)."""
    folded = markup.lower()
    if "<script" not in folded and "<style" not in folded:
        return markup
    kept: list[str] = []
    position = 0
    while True:
        starts = [i for i in (folded.find("<script", position), folded.find("<style", position))]
        start = min((i for i in starts if i >= 0), default=-1)
        if start < 0:
            kept.append(markup[position:])
            return " ".join(kept)
        kept.append(markup[position:start])
        tag = "</script" if folded.startswith("<script", start) else "</style"
        end = folded.find(tag, start)
        if end < 0:
            return " ".join(kept)
        close = folded.find(">", end)
        position = len(markup) if close < 0 else close + 1


def html_text(markup: str) -> str:
    """Visible text of an HTML fragment: block tags become line breaks, entities are decoded."""
    markup = _without_scripts(markup)
    markup = _BLOCK_TAG.sub("\n", markup)
    markup = _INLINE_TAG.sub("", markup)
    return html.unescape(_TAG.sub(" ", markup))


def _attachment(att: dict[str, Any], path: str) -> tuple[str, str | None]:
    """The text of one presentedForm attachment ('' when it holds none) and a problem, if any."""
    content_type = (string(att, "contentType", path) or "").strip().lower()
    mime = content_type.split(";", 1)[0].strip()
    data = string(att, "data", path)
    if mime not in _TEXT_TYPES:
        if not data:
            return "", None
        element = f"{path}contentType"
        if mime:
            return "", _("{element}: {type}; not read", element=element, type=mime)
        return "", _("{element}: missing; not read", element=element)
    if data is None:
        return "", None  # a URL only: references are never fetched one by one
    if len(data) > _MAX_BASE64:
        return "", _(
            "{element}: larger than {limit} kB; not read",
            element=path + "data",
            limit=MAX_TEXT // 1024,
        )
    try:
        raw = base64.b64decode("".join(data.split()), validate=True)
    except (binascii.Error, ValueError):
        return "", _("{element}: not valid base64; not read", element=path + "data")
    declared = _CHARSET.search(content_type)
    encodings = [declared.group(1)] if declared else []
    text = None
    for encoding in [*encodings, "utf-8-sig", "gb18030"]:
        try:
            text = raw.decode(encoding)
            break
        except (UnicodeDecodeError, LookupError):
            continue
    if text is None or "\x00" in text:
        return "", _("{element}: not text in a known encoding; not read", element=path + "data")
    return (html_text(text) if mime != "text/plain" else text), None


def report_text(report: dict[str, Any]) -> tuple[str, list[str]]:
    """All readable text of a report, and problems reading its attachments."""
    parts: list[str] = []
    problems: list[str] = []
    conclusion = string(report, "conclusion")
    if conclusion:
        parts.append(conclusion)
    for concept in objects(report, "conclusionCode"):
        described = all_text(concept)  # the display names the diagnosis, grade included
        if described:
            parts.append(described)
    for i, att in enumerate(objects(report, "presentedForm")):
        text, problem = _attachment(att, f"presentedForm[{i}].")
        if text:
            parts.append(text)
        if problem:
            problems.append(problem)
    return normalize("\n".join(parts)), problems
