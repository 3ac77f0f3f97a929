"""Result values as labs and staging systems print them: numbers in text, TNM and stage groups."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import NamedTuple

from fhir_mappings.facts import Quantity
from pnen_i18n import N_

APPROXIMATE = N_("reported as approximate")
"""A flag (translated where the evidence is shown)."""

_NOTE = re.compile(r"\s*\([^()]*\)\s*$")  # a trailing remark: "(hot spot)"
_LABEL = re.compile(r"^[^:=<>≤≥\d]*(?:\d+[^:=<>≤≥\d]*)?[:=]\s*")  # "Ki-67: ", "Ki67 index = "
# The marker's own name without a colon ("Ki-67 index 15%", "MIB-1 10 %"): its digits are no value.
_MARKER = re.compile(
    r"^(?:ki-?67|mib-?1)(?:\s+(?:proliferation\s+)?(?:labell?ing\s+)?index)?\s+(?=[<>≤≥~≈\d]|[a-z])",
    re.I,
)
_APPROX = re.compile(r"^(?:approximately|approx\.?|about|around|circa|ca\.|~|≈)\s*", re.I)
_WORD_COMPARATORS = (
    (re.compile(r"^(?:less|fewer)\s+than\s*|^(?:below|under)\s+", re.I), "<"),
    (re.compile(r"^(?:more|greater)\s+than\s*|^(?:above|over)\s+", re.I), ">"),
    (re.compile(r"^at\s+least\s+", re.I), ">="),
    (re.compile(r"^(?:up\s+to|at\s+most)\s+", re.I), "<="),
    (re.compile(r"^(<=|>=|<|>|≤|≥)\s*"), ""),
)
_SYMBOLS = {"≤": "<=", "≥": ">="}
_NUMBERS = re.compile(
    r"^(\d+(?:[.,]\d+)*)\s*(%?)\s*(?:(?:-|–|to)\s*(\d+(?:[.,]\d+)*)\s*)?(.*)$", re.I
)
_THOUSANDS = re.compile(r"^\d{1,3}(?:,\d{3})+(?:\.\d+)?$")  # "1,234.5" too


def decimal(text: str) -> float | None:
    """'20,5' → 20.5 (a decimal comma), '1,250' → 1250, '1,234.5' → 1234.5, '12.5' → 12.5."""
    if "," in text:
        text = text.replace(",", "") if _THOUSANDS.match(text) else text.replace(",", ".")
    try:
        return float(text)
    except ValueError:
        return None


def value_from_text(text: str) -> tuple[Quantity, tuple[str, ...]] | None:
    """A number as a lab prints it, with its comparator and unit, or None when it is not one.

    Reads '15%', '15 %', 'Ki-67: 15%', 'approximately 12% (hot spot)', 'less than 1%', '<2%',
    '5-10%' (both ends: a bound of each) and '20,5 %' (a decimal comma is 20.5, never 20).
    """
    rest = _NOTE.sub("", text.strip())
    rest = _LABEL.sub("", rest, count=1)
    rest = _MARKER.sub("", rest, count=1)
    flags: tuple[str, ...] = ()
    approx = _APPROX.match(rest)
    if approx:
        rest = rest[approx.end() :]
        flags = (APPROXIMATE,)
    comparator: str | None = None
    for pattern, symbol in _WORD_COMPARATORS:
        found = pattern.match(rest)
        if found:
            comparator = symbol or _SYMBOLS.get(found.group(1), found.group(1))
            rest = rest[found.end() :]
            break
    match = _NUMBERS.match(rest)
    if not match:
        return None
    low = decimal(match.group(1))
    high = decimal(match.group(3)) if match.group(3) else None
    unit = match.group(2) or match.group(4).strip()
    if low is None or (match.group(3) and high is None) or _looks_numeric(unit):
        return None
    if high is not None:  # a range: both ends kept (its high end ranks it)
        return Quantity(high, unit, None, None, min(low, high)), flags
    return Quantity(low, unit, comparator), flags


def _looks_numeric(unit: str) -> bool:
    """A 'unit' that starts with a digit or separator means the text was not one number."""
    return bool(unit) and (unit[0].isdigit() or unit[0] in ",.;")


class Staging(NamedTuple):
    """A TNM fact read from a value: its kind ('tnm-t', 'tnm-n', 'tnm-m', 'tnm-stage') and value."""

    kind: str
    value: str


_PREFIXES = {"tnm-t": "T", "tnm-n": "N", "tnm-m": "M"}
_EXACT = {p: re.compile(rf"[cpyra]*({p}[0-4xX]?[a-dA-D]?|{p}is)") for p in "TNM"}
_WITHIN = {
    p: re.compile(rf"(?<![A-Za-z0-9])[cpyra]*({p}[0-4xX][a-dA-D]?|{p}is)(?![A-Za-z0-9])")
    for p in "TNM"
}
_STAGE = re.compile(r"\b(IV|III|II|I)([ABC])?\b")


def category(texts: Iterable[str], kind: str) -> str | None:
    """The T, N or M category ('T2', 'N1', 'M1a') named by any text: a code, string or display.

    A whole text ('pN1', 'M1a') wins; otherwise a category word inside a display ('American Joint
    Committee on Cancer cM1a (qualifier value)').
    """
    prefix = _PREFIXES[kind]
    items = [t.strip() for t in texts if t and t.strip()]
    for item in items:
        match = _EXACT[prefix].fullmatch(item)
        if match:
            return _tidy(match.group(1))
    for item in items:
        match = _WITHIN[prefix].search(item)
        if match:
            return _tidy(match.group(1))
    return None


def _tidy(value: str) -> str:
    return value[0].upper() + value[1:].lower()


def stage_group(texts: Iterable[str]) -> str | None:
    """The stage group ('IIB', 'IV') named by any text."""
    for item in texts:
        match = _STAGE.search(item.strip().upper().replace("STAGE", " "))
        if match:
            return match.group(0)
    return None


def staging_facts(concepts: Iterable[str], texts: list[str]) -> list[Staging]:
    """What a TNM or stage-group value says, for each TNM concept its code belongs to."""
    found: list[Staging] = []
    for concept in concepts:
        if concept in _PREFIXES:
            value = category(texts, concept)
        elif concept == "tnm-stage":
            value = stage_group(texts)
        else:
            continue
        if value:
            found.append(Staging(concept, value))
    return found


def metastasis_kinds(m_category: str) -> tuple[str, ...]:
    """The metastasis facts an M category implies: M1a liver, M1b extrahepatic, M1c both."""
    lowered = m_category.lower()
    kinds: tuple[str, ...] = ()
    if lowered in {"m1a", "m1c"}:
        kinds += ("liver-metastasis",)
    if lowered in {"m1b", "m1c"}:
        kinds += ("extrahepatic-metastasis",)
    return kinds


# Ki-67 printed as counted cells: '50/2000 cells', '150 of 1000 cells (7.5%)'.
_CELL_COUNT = re.compile(
    r"^\s*(\d+)\s*(?:/|of|out\s+of)\s*(\d+)\s*(?:tumou?r\s+)?(?:cells|nuclei)?\s*"
    r"(?:\(\s*(\d+(?:[.,]\d+)?)\s*%\s*\))?\s*$",
    re.I,
)


def cell_count_percent(text: str) -> float | None:
    """'50/2000 cells (2.5%)' → 2.5: positive cells over counted cells, as a percentage.

    A printed percentage beside the count must agree with it (to its rounding), else None.
    """
    match = _CELL_COUNT.match(text)
    if not match or int(match.group(2)) == 0:
        return None
    percent = 100 * int(match.group(1)) / int(match.group(2))
    printed = decimal(match.group(3)) if match.group(3) else None
    if printed is not None and abs(printed - percent) > 0.5:
        return None
    return round(percent, 2)


# An IHC score printed within text: '1+ (weak, 10%)', 'Score: 2', '3+ in 80% of cells', '(0)'.
# Neither a digit of a percentage ('10%', '80%') nor of a name ('MT23') is a score.
_IHC_SCORE = re.compile(r"(?<![\w.,%<>])([0-3])(?:\s*\+)?(?![\w.,%])")
_IHC_ZERO = re.compile(r"\b(?:negative|loss|lost)\b", re.I)
_IHC_POSITIVE = re.compile(r"\bpositive\b|阳性", re.I)
_IHC_NEGATIVE = re.compile(r"\bnegative\b|\bnot\s+detected\b|阴性", re.I)
# Words that make a result ambiguous or turn a loss into its opposite: never read past them.
_IHC_HEDGE = re.compile(
    r"\b(?:no|not|partial(?:ly)?|heterogeneous|focal(?:ly)?|retained|equivocal)\b",
    re.I,
)


def ihc_score(text: str) -> int | None:
    """The one 0–3+ score a printed IHC result states ('Loss of expression (0)' → 0), or None.

    Reads a single score, or a loss ('negative', 'loss of expression') with no score; two
    scores ('0-1+', '2+/3+'), a partial or retained expression, or no score at all are None.
    """
    if _IHC_HEDGE.search(text):
        return None
    scores = {int(s) for s in _IHC_SCORE.findall(text)}
    zero = bool(_IHC_ZERO.search(text))
    if len(scores) > 1 or (zero and scores - {0}):
        return None
    if scores:
        return scores.pop()
    return 0 if zero else None


def ihc_result(text: str) -> str | None:
    """'positive' or 'negative' as a printed IHC result words it ('strongly positive',
    'not detected', '阳性（+++）'), or None when it says neither, both, or hedges."""
    positive = bool(_IHC_POSITIVE.search(text))
    negative = bool(_IHC_NEGATIVE.search(text))
    scores = {int(s) for s in _IHC_SCORE.findall(text)}
    if positive == negative or (negative and scores - {0}) or (positive and 0 in scores):
        return None  # neither, both, or a word its own score contradicts ('negative (3+)')
    if negative:
        return "negative"
    return None if _IHC_HEDGE.search(text) else "positive"
