"""Phrase context in report text: which mentions are asserted, and which are negated or advisory.

A small, hand-written relative of NegEx/ConText (English and Chinese cues): a cue governs the
rest of its clause ("no evidence of", "correlate with", "未见", "建议" …) or, for trailing cues, the
clause before it ("… not performed", "…待回报"). Clauses end at commas, semicolons, sentence
ends and "but"/"however"/"但". Mentions governed by a cue create no fact.
"""

from __future__ import annotations

import re
import unicodedata

# Cues that govern what follows them in the clause: negation, advice, hedging, history.
_LEADING = (
    # negation
    r"no",
    r"not",
    r"without",
    r"negative\s+for",
    r"absence\s+of",
    r"free\s+of",
    r"rules?\s+out",
    r"ruled\s+out",
    r"r/o",
    r"cannot\s+(?:be\s+)?exclude[ds]?",
    r"can\s*not\s+(?:be\s+)?exclude[ds]?",
    # advice and orders
    r"recommend(?:s|ed|ing)?",
    r"recommendation",
    r"advise[ds]?",
    r"suggest(?:s|ed)?\s+(?:that|to|further|additional|repeat|clinical)",
    r"consider(?:s|ed|ing)?",
    r"correlat(?:e|es|ed|ion)",
    r"should",
    r"would",
    r"please",
    # hedged diagnoses
    r"possible",
    r"possibly",
    r"suspicious\s+for",
    r"differential(?:\s+diagnosis)?",
    r"versus",
    r"vs\.?",
    r"rule-out",
    # history and comparison: a value quoted from an earlier report is not this report's result
    r"prior",
    r"previous(?:ly)?",
    r"history\s+of",
    r"compared?\s+(?:with|to)",
    r"comparison",
    r"unlike",
    # Chinese: not seen, none found, exclude, cannot exclude, recommend, please correlate,
    # consider (a tentative diagnosis), pending, possibly, suspected, compared with / previous
    r"未见",
    r"未发现",
    r"未找到",
    r"无明显",
    r"排除",
    r"不除外",
    r"不排除",
    r"建议",
    r"请结合",
    r"结合临床",
    r"考虑",
    r"待",
    r"可能",
    r"疑似",
    r"较前",
    r"既往",
)
# Cues that govern the clause before them: "Ki-67 not performed", "Ki-67 待回报".
_TRAILING = (
    r"not\s+(?:performed|done|assessed|evaluated|available|applicable|identified|seen|present)",
    r"pending",
    r"to\s+follow",
    r"will\s+follow",
    r"cannot\s+be\s+(?:assessed|determined|evaluated|performed)",
    r"was\s+not\s+(?:performed|done|assessed)",
    r"未做",
    r"未测",
    r"未检测",
    r"待回报",
    r"待定",
    r"待补充",
    r"不能评估",
    r"无法评估",
)
# Chinese cues are matched without word boundaries (the script has no spaces); "无" alone is not a
# cue because it is part of words such as 无功能性 (non-functional).
_ASCII_CUE = re.compile(r"[a-z/]")


def _alternation(cues: tuple[str, ...]) -> str:
    parts = []
    for cue in cues:
        if _ASCII_CUE.match(cue):
            parts.append(rf"(?<![\w-]){cue}(?![\w])")
        else:
            parts.append(cue)
    return "|".join(parts)


_LEADING_CUE = re.compile(_alternation(_LEADING), re.IGNORECASE)
_TRAILING_CUE = re.compile(_alternation(_TRAILING), re.IGNORECASE)
_BOUNDARY = re.compile(r"[,;、]|(?<![\w-])(?:but|however|although|except)(?![\w])|但|而", re.I)
# Sentence ends: line breaks, Chinese full stops, semicolons, and a period followed by a space or
# the end (not a decimal point, not "approx." or "ca.").
_SENTENCE_END = re.compile(
    r"\n|。|;|(?<!approx)(?<![\s(]ca)(?<![\s(]vs)(?<![\s(]no)(?<!e\.g)(?<!i\.e)\.(?=\s|$)",
    re.IGNORECASE,
)


def normalize(text: str) -> str:
    """NFKC form: full-width digits, letters and punctuation (１５％，（）) become ASCII."""
    return unicodedata.normalize("NFKC", text)


def sentences(text: str) -> list[str]:
    """The sentences of a normalized text (line breaks, full stops, semicolons end one)."""
    return [part for part in _SENTENCE_END.split(text) if part.strip()]


class Sentence:
    """One sentence with the positions of its cues and clause boundaries, computed once."""

    __slots__ = ("boundaries", "leading", "text", "trailing")

    def __init__(self, text: str) -> None:
        self.text = text
        self.leading = [m.end() for m in _LEADING_CUE.finditer(text)]
        self.trailing = [m.start() for m in _TRAILING_CUE.finditer(text)]
        self.boundaries = (
            [m.start() for m in _BOUNDARY.finditer(text)] if (self.leading or self.trailing) else []
        )

    def asserted(self, start: int, end: int) -> bool:
        """True when no cue in the same clause governs the span [start, end)."""
        for cue_end in self.leading:
            if cue_end <= start and not any(cue_end <= b < start for b in self.boundaries):
                return False
        for cue_start in self.trailing:
            if cue_start >= end and not any(end <= b < cue_start for b in self.boundaries):
                return False
        return True


def asserted_text(text: str) -> str:
    """The text without the parts that negation or advice governs (for imaging text fallbacks)."""
    if not _LEADING_CUE.search(text) and not _TRAILING_CUE.search(text):
        return text
    kept: list[str] = []
    for raw in sentences(normalize(text)):
        start = 0
        ends = [(m.start(), m.end()) for m in _BOUNDARY.finditer(raw)]
        for end, after in [*ends, (len(raw), len(raw))]:
            clause = raw[start:end]
            trailing = list(_TRAILING_CUE.finditer(clause))
            if trailing:
                clause = clause[trailing[-1].end() :]
            leading = _LEADING_CUE.search(clause)
            if leading:
                clause = clause[: leading.start()]
            if clause.strip():
                kept.append(clause)
            start = after
        kept.append(" | ")
    return "".join(kept)
