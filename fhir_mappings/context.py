"""Phrase context in report text: which mentions are asserted, and which are negated or advisory.

A small, hand-written relative of NegEx/ConText (English and Chinese cues): a cue governs the
rest of its clause ("no evidence of", "correlate with", "未见", "建议" …) or, for trailing cues, the
clause before it ("… not performed", "…待回报"). Clauses end at commas, semicolons, sentence
ends and "but"/"however"/"但". Mentions governed by a cue create no fact.
"""

from __future__ import annotations

import re
import unicodedata
from bisect import bisect_left, bisect_right

# Cues that govern what follows them in the clause: negation, advice, hedging, history. Each is a
# phrase of lower-case words (matched word by word: one pass over the words, no regex per cue).
_LEADING = (
    # negation
    "no",
    "not",
    "without",
    "negative for",
    "absence of",
    "free of",
    "rule out",
    "rules out",
    "ruled out",
    "r/o",
    "rule-out",
    "cannot exclude",
    "cannot be excluded",
    "can not exclude",
    "against",  # "CK20 negative, against metastatic colorectal adenocarcinoma"
    "not consistent with",
    "inconsistent with",
    "not supportive of",
    "does not support",
    # advice and orders
    "recommend",
    "recommends",
    "recommended",
    "recommending",
    "recommendation",
    "advise",
    "advised",
    "advises",
    *(
        f"{verb} {what}"
        for verb in ("suggest", "suggests", "suggested")
        for what in ("that", "to", "further", "additional", "repeat", "clinical", "correlation")
    ),
    "consider",
    "considers",
    "considered",
    "considering",
    "correlate",
    "correlates",
    "correlated",
    "correlation",
    "should",
    "would",
    "please",
    # hedged diagnoses
    "possible",
    "possibly",
    "suspicious for",
    "differential",
    "versus",
    "vs",
    # history and comparison: a value quoted from an earlier report is not this report's result
    "prior",
    "previous",
    "previously",
    "history of",
    "compared with",
    "compared to",
    "compare with",
    "comparison",
    "unlike",
)
# Cues that govern the clause before them: "Ki-67 not performed", "Ki-67 pending".
_TRAILING = (
    *(
        f"not {what}"
        for what in (
            "performed",
            "done",
            "assessed",
            "evaluated",
            "available",
            "applicable",
            "identified",
            "seen",
            "present",
        )
    ),
    *(f"{be} {done}" for be in ("is", "are", "was", "were") for done in ("excluded", "ruled out")),
    "has been excluded",
    "have been excluded",
    "pending",
    "to follow",
    "will follow",
    *(f"cannot be {what}" for what in ("assessed", "determined", "evaluated", "performed")),
)
_BOUNDARY_WORDS = frozenset({"but", "however", "although", "except"})
# Chinese cues (the script has no spaces: matched as substrings). Not seen, not found, no obvious,
# exclude, cannot exclude, recommend, please correlate, correlate clinically, consider (a
# tentative diagnosis), pending, possibly, suspected, compared with before, previous. "无" alone
# is no cue: it is part of words such as 无功能性 (non-functional).
_ZH_LEADING = re.compile(
    "未见|未发现|未找到|无明显|不除外|不排除|排除|不支持|不符合|建议|请结合|结合临床|考虑|可能|疑似|较前|既往|"
    "待(?!回报|定|补充)"
)
_ZH_TRAILING = re.compile("未做|未测|未检测|待回报|待定|待补充|不能评估|无法评估")
_ZH_BOUNDARY = re.compile("但|而")
_PUNCTUATION_BOUNDARY = re.compile("[,;、]")
_WORD = re.compile(r"[A-Za-z]+(?:[/-][A-Za-z]+)?")


def _index(phrases: tuple[str, ...]) -> dict[str, tuple[tuple[str, ...], ...]]:
    """First word → the phrases starting with it, longest first."""
    by_first: dict[str, list[tuple[str, ...]]] = {}
    for phrase in phrases:
        words = tuple(phrase.split())
        by_first.setdefault(words[0], []).append(words)
    return {k: tuple(sorted(v, key=len, reverse=True)) for k, v in by_first.items()}


_LEADING_INDEX = _index(_LEADING)
_TRAILING_INDEX = _index(_TRAILING)
_FIRST_WORDS = frozenset(_LEADING_INDEX) | frozenset(_TRAILING_INDEX) | _BOUNDARY_WORDS

Span = tuple[int, int]


def _find(
    words: list[tuple[int, int, str]], i: int, index: dict[str, tuple[tuple[str, ...], ...]]
) -> Span | None:
    """The span of the longest phrase of `index` starting at word i, or None."""
    for phrase in index.get(words[i][2], ()):
        n = len(phrase)
        if all(j < len(words) and words[j][2] == phrase[j - i] for j in range(i + 1, i + n)):
            return words[i][0], words[i + n - 1][1]
    return None


def cues(text: str) -> tuple[list[Span], list[Span], list[Span]]:
    """Spans of leading cues, trailing cues and clause boundaries in a text."""
    leading: list[Span] = []
    trailing: list[Span] = []
    boundaries = [(m.start(), m.end()) for m in _PUNCTUATION_BOUNDARY.finditer(text)]
    words = [(m.start(), m.end(), m.group().lower()) for m in _WORD.finditer(text)]
    for i, (start, end, word) in enumerate(words):
        if word not in _FIRST_WORDS:
            continue
        if word in _BOUNDARY_WORDS:
            boundaries.append((start, end))
            continue
        found = _find(words, i, _TRAILING_INDEX)
        if found:
            trailing.append(found)
        found = _find(words, i, _LEADING_INDEX)
        if found:
            leading.append(found)
    if not text.isascii():
        leading += [(m.start(), m.end()) for m in _ZH_LEADING.finditer(text)]
        trailing += [(m.start(), m.end()) for m in _ZH_TRAILING.finditer(text)]
        boundaries += [(m.start(), m.end()) for m in _ZH_BOUNDARY.finditer(text)]
    boundaries.sort()
    return leading, trailing, boundaries


# Sentence ends: line breaks, Chinese full stops, semicolons, and a period followed by a space or
# the end (not a decimal point, not "approx." or "ca.").
_SENTENCE_END = re.compile(
    r"\n|。|;|\.(?<![Aa]pprox\.)(?<![\s(][Cc]a\.)(?<![\s(][Vv]s\.)(?<![\s(][Nn]o\.)"
    r"(?<!e\.g\.)(?<!i\.e\.)(?=\s|$)"
)


# Hyphens that are not ASCII ("Ki‑67" with U+2011 becomes U+2010 under NFKC) read as '-'; the
# en and em dashes stay (ranges, "5–10 %").
_HYPHENS = str.maketrans({"\u2010": "-", "\u2212": "-"})


def normalize(text: str) -> str:
    """NFKC form: full-width digits, letters and punctuation (１５％，（）) become ASCII; Unicode
    hyphens and the minus sign become '-'."""
    return unicodedata.normalize("NFKC", text).translate(_HYPHENS)


MAX_SENTENCE = 2000
"""Longer runs without a sentence end are cut: no real sentence is that long, and it bounds the
work per sentence whatever a report holds."""


def sentences(text: str) -> list[str]:
    """The sentences of a normalized text (line breaks, full stops, semicolons end one)."""
    found: list[str] = []
    for part in _SENTENCE_END.split(text):
        if len(part) > MAX_SENTENCE:
            found.extend(part[i : i + MAX_SENTENCE] for i in range(0, len(part), MAX_SENTENCE))
        elif part.strip():
            found.append(part)
    return found


class Sentence:
    """One sentence with the positions of its cues and clause boundaries, computed once."""

    __slots__ = ("boundaries", "leading", "text", "trailing")

    def __init__(self, text: str) -> None:
        self.text = text
        self.leading: list[int] | None = None  # found on the first question: most sentences
        self.trailing: list[int] = []  # of a report mention nothing the service reads
        self.boundaries: list[int] = []

    def asserted(self, start: int, end: int) -> bool:
        """True when no cue in the same clause governs the span [start, end)."""
        if self.leading is None:
            leading, trailing, boundaries = cues(self.text)
            self.leading = sorted(e for _, e in leading)
            self.trailing = sorted(s for s, _ in trailing)
            self.boundaries = [s for s, _ in boundaries]
        # the clause of the span: from the last boundary before it to the first one after it
        i = bisect_left(self.boundaries, start)
        clause_start = self.boundaries[i - 1] if i else -1
        j = bisect_left(self.boundaries, end)
        clause_end = self.boundaries[j] if j < len(self.boundaries) else len(self.text)
        # a leading cue ending inside (clause_start, start], a trailing one starting in
        # [end, clause_end]
        k = bisect_right(self.leading, start)
        if k and self.leading[k - 1] > clause_start:
            return False
        k = bisect_left(self.trailing, end)
        return not (k < len(self.trailing) and self.trailing[k] <= clause_end)


def asserted_text(text: str) -> str:
    """The text without the parts that negation or advice governs (for imaging text fallbacks)."""
    leading, trailing, _ = cues(text)
    if not leading and not trailing:
        return text
    kept: list[str] = []
    for raw in sentences(normalize(text)):
        leading, trailing, boundaries = cues(raw)
        leading_starts = sorted(s for s, _ in leading)
        trailing.sort()
        trailing_starts = [s for s, _ in trailing]
        start = 0
        for end, after in [*boundaries, (len(raw), len(raw))]:
            # within the clause [start, end): drop what a trailing cue governs, then a leading one
            k = bisect_left(trailing_starts, end)
            keep_from = trailing[k - 1][1] if k and trailing_starts[k - 1] >= start else start
            k = bisect_left(leading_starts, keep_from)
            keep_to = leading_starts[k] if k < len(leading_starts) else end
            keep_to = min(keep_to, end)
            if raw[keep_from:keep_to].strip():
                kept.append(raw[keep_from:keep_to])
            start = after
        kept.append(" | ")
    return "".join(kept)
