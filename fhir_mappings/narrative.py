"""Pathology DiagnosticReports whose grade data is only text → tissue facts (fhir-mapping.md).

Many pathology systems send Ki-67, mitoses, WHO grade and differentiation only in a report's
`conclusion`, `conclusionCode` or `presentedForm` (plain text or HTML, base64), in English or
Chinese. This module reads them with hand-written, precompiled patterns (fhir_mappings.context
decides which mentions are negated or advisory). Facts carry FROM_REPORT_TEXT.

Coded results win: a report is read only for the tissue kinds that no Observation in its `result`
gives, and a reading is dropped when a coded result of the same kind, date and site (or with either
site unknown) exists — it is the same result, and the coded one is exact.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from typing import Any

from fhir_mappings.context import Sentence, sentences
from fhir_mappings.facts import (
    FROM_REPORT_TEXT,
    LIVER,
    PRIMARY,
    UNKNOWN_SITE,
    Fact,
    Quantity,
)
from fhir_mappings.observations import DIFFERENTIATED, MappingOptions, SiteIndex, sited
from fhir_mappings.report_text import report_text
from fhir_mappings.shape import (
    all_text,
    fhir_date,
    local_ref,
    obj,
    objects,
    ref_of,
    result_status_flags,
    string,
)
from fhir_mappings.terminology import Terminology
from fhir_mappings.tumour_words import NEN, other_tumour_named
from pnen_i18n import N_, _

TISSUE_KINDS = ("ki67", "mitotic-count", "who-grade", "differentiation")
COUNTED = frozenset({"final", "amended", "corrected", "appended"})

# --- what a report is ------------------------------------------------------------------------


def is_pathology_report(report: dict[str, Any], terms: Terminology) -> bool:
    """A pathology report: LOINC pathology code, pathology category, or 'pathology' in its name."""
    code = obj(report, "code")
    key = _kind_key(code, report.get("category"))
    if key is None:
        return _is_pathology_report(report, code, terms)
    found = _PATHOLOGY_KINDS.get((terms, key))
    if found is None:
        found = _is_pathology_report(report, code, terms)
        if len(_PATHOLOGY_KINDS) < _PATHOLOGY_KINDS_MAX:  # a bound: codes come from requests
            _PATHOLOGY_KINDS[(terms, key)] = found
    return found


_PATHOLOGY_KINDS: dict[tuple[Terminology, tuple[Any, ...]], bool] = {}
"""is_pathology_report by report code and categories: the same few recur in every record."""
_PATHOLOGY_KINDS_MAX = 4096
_Plain = str | None


def _kind_key(code: Any, categories: Any) -> tuple[Any, ...] | None:
    """What decides whether a report is pathology (texts and codings), or None when not plain."""
    if categories is None:
        concepts = [code]
    elif isinstance(categories, list):
        concepts = [code, *categories]
    else:
        return None  # left to the shape checks of the uncached path
    key: list[Any] = []
    for concept in concepts:
        if concept is None:
            key.append(None)
            continue
        if not isinstance(concept, dict) or not isinstance(concept.get("text"), _Plain):
            return None
        codings = concept.get("coding") or []
        if not isinstance(codings, list):
            return None
        key.append(concept.get("text"))
        for coding in codings:
            if not isinstance(coding, dict):
                return None
            system, value, display = coding.get("system"), coding.get("code"), coding.get("display")
            if not (
                isinstance(system, _Plain)
                and isinstance(value, _Plain)
                and isinstance(display, _Plain)
            ):
                return None
            key.append((system, value, display))
        key.append(len(codings))
    return tuple(key)


def _is_pathology_report(report: dict[str, Any], code: Any, terms: Terminology) -> bool:
    if "pathology-report" in terms.concepts_of(code):
        return True
    categories = objects(report, "category")
    if any("pathology-category" in terms.concepts_of(c) for c in categories):
        return True
    names = " | ".join([all_text(code), *(all_text(c) for c in categories)])
    return bool(names) and _names_pathology(terms, names)


@lru_cache(maxsize=4096)
def _names_pathology(terms: Terminology, names: str) -> bool:
    """Whether report and category names say pathology (terminology text, no PHI: memoised)."""
    return terms.text_matches("pathology-report", names) or "病理" in names


# --- patterns --------------------------------------------------------------------------------

_NUM = r"\d{1,4}(?:[.,]\d+)?"
_CMP = (
    r"<=|>=|<|>|≤|≥|less\s+than|fewer\s+than|under|below|up\s+to|more\s+than|greater\s+than|"
    r"over|at\s+least|不足|小于|低于|少于|大于|高于|超过"
)
_CMP_WORDS = {
    "≤": "<=",
    "≥": ">=",
    "less than": "<",
    "fewer than": "<",
    "under": "<",
    "below": "<",
    "up to": "<=",
    "more than": ">",
    "greater than": ">",
    "over": ">",
    "at least": ">=",
    "不足": "<",
    "小于": "<",
    "低于": "<",
    "少于": "<",
    "大于": ">",
    "高于": ">",
    "超过": ">",
}
_RANGE = r"(?:\s*%?\s*(?:-|–|—|~|to|至|到)\s*(?P<hi>" + _NUM + "))?"
# Label to value: words, ':', '(+,约', never a digit; a comma only right after '(' or '+' (the
# Chinese 'Ki-67(+,约5%)'), so "Ki-67 positive, CgA 90%" never reads CgA's value.
_GAP = r"(?:[^\d\n;。,]|(?<=[+(])\s*,){0,60}?"
# Not inside a longer Latin word or number; a Chinese word may follow directly ("Ki-67指数").
_KI67_LABEL = (
    r"(?<![A-Za-z0-9_])(?:ki[-\s]?67|mib[-\s]?1)(?:\s*\(\s*mib[-\s]?1\s*\))?(?![A-Za-z0-9_])"
)
_KI67 = re.compile(_KI67_LABEL, re.IGNORECASE)
_KI67_VALUE = re.compile(
    rf"{_GAP}(?P<neg>[-−])?(?:(?P<cmp>{_CMP})\s*)?(?P<lo>{_NUM}){_RANGE}\s*(?:%|per\s?cent)"
    r"(?:\s*(?P<sfx>以下|以上))?",
    re.IGNORECASE,
)
_KI67_BEFORE = re.compile(
    rf"(?:(?P<cmp>{_CMP})\s*)?(?P<lo>{_NUM}){_RANGE}\s*%[^\d\n;。,]{{0,30}}?$", re.IGNORECASE
)
_MITOSES = re.compile(
    r"(?<![\w])(?:mitos[ie]s|mitotic\s+(?:count|rate|index|activity|figures?)|"
    r"mitotic\s+figures?)(?![\w])|核分裂(?:象|像|数)?",
    re.IGNORECASE,
)
_PER_2MM2 = r"2\s*mm(?:2|\^2|\s*sq)?|2\s*平方毫米"
_PER_10HPF = r"10\s*(?:hpfs?|high[-\s]power\s+fields?|个?高倍视野)"
_PER_UNIT = rf"\s*(?:/|per|每)\s*(?:(?P<mm>{_PER_2MM2})|(?P<hpf>{_PER_10HPF}))"
_MITOTIC_UNIT = rf"\s*(?:mitos[ie]s|mitotic\s+figures?|个)?{_PER_UNIT}"
_MITOSES_VALUE = re.compile(
    rf"{_GAP}(?P<neg>[-−])?(?:(?P<cmp>{_CMP})\s*)?(?P<lo>{_NUM}){_RANGE}(?:{_MITOTIC_UNIT})?",
    re.IGNORECASE,
)
_MITOSES_BEFORE = re.compile(rf"(?:(?P<cmp>{_CMP})\s*)?(?P<lo>{_NUM}){_RANGE}\s*$", re.IGNORECASE)
_UNIT_AFTER_LABEL = re.compile(_PER_UNIT, re.IGNORECASE)
_NO_MITOSES = re.compile(
    r"(?<![\w])(?:no|absent)\s+(?:mitos[ie]s|mitotic\s+(?:figures?|activity))(?![\w])|"
    r"(?<![\w])mitos[ie]s\s*:?\s*(?:none|absent)(?![\w])|未见(?:明确的?|明显的?)?核分裂",
    re.IGNORECASE,
)
_GRADE = re.compile(
    r"(?<![A-Za-z0-9])G\s?(?P<g>[123])(?![\d.])(?P<span>\s*[-/~]\s*G?\s*[123](?!\d))?|"
    r"(?:(?<![\w])(?:WHO|histologic(?:al)?|tumou?r)\s+(?:20\d\d\s+)?)?(?<![\w])grade\s*:?\s*"
    r"(?:G\s?)?(?P<n>[123]|III|II|I)(?![\w.])(?P<span2>\s*[-/~]\s*(?:[123]|III|II|I)(?![\w]))?|"
    r"(?:WHO\s*)?(?P<c>[123一二三])级|"
    r"(?<![\w-])(?P<w>low|intermediate|high)[-\s]grade(?![\w-])",
    re.IGNORECASE,
)
_WORD_GRADES = {"low": 1, "intermediate": 2, "high": 3}
_GRADE_HINT = re.compile(r"[Gg]\s?[123]")
_GRADE_MENTION = re.compile(r"(?<![\w])(?:WHO\s+grade|grade)(?![\w])|分级", re.IGNORECASE)
_OTHER_GRADES = re.compile(
    r"(?<![\w])(?:nuclear|gleason|fuhrman|nottingham|isup|figo|budding|tumou?r\s+budding|"
    r"elston)(?![\w])",
    re.IGNORECASE,
)
_WELL = re.compile(r"(?<![\w])well[-\s]?differentiated(?![\w])|高分化|分化(?:良好|好)", re.I)
_POORLY = re.compile(r"(?<![\w])poorly[-\s]?differentiated(?![\w])|低分化|分化差", re.I)
_MODERATELY = re.compile(r"(?<![\w])moderately[-\s]?differentiated(?![\w])|中分化", re.I)
_NEC = re.compile(
    r"(?i:(?<![\w-])(?:(?:large|small)[-\s]cell\s+)?neuroendocrine\s+carcinoma(?![\w]))|"
    r"(?i:(?<![\w-])small[-\s]cell\s+carcinoma(?![\w]))|(?<![\w])NEC(?![\w])|"
    r"神经内分泌癌|小细胞癌",
)
# WHO 2019: a NET is a well-differentiated NEN. Chinese 神经内分泌瘤 is NET; 神经内分泌肿瘤 is
# the umbrella NEN (NET or NEC), so it alone says nothing of differentiation.
_NET = re.compile(
    r"(?i:(?<![\w-])neuroendocrine\s+tumou?rs?(?![\w]))|(?<![\w])p?NETs?(?![\w])|神经内分泌瘤"
)
_OTHER_CARCINOMA = re.compile(
    r"(?<![\w])(?:adeno|ductal|squamous|acinar|urothelial|lobular)|腺癌|鳞癌|导管癌",
    re.IGNORECASE,
)
# A specimen header starting a sentence: "Liver, segment 6, core biopsy:", "B. Pancreas, tail",
# "(肝S6穿刺)", "胰尾肿物". English organ names count only when a site description follows them
# ("Pancreatic primary is likely" is not a header). Other organs end the previous site.
_HEADER = re.compile(
    r"\s*(?:(?:final\s+|pathologic(?:al)?\s+)?diagnosis\s*:\s*|(?:病理)?诊断\s*:\s*)?"
    r"(?:(?:part\s+)?[A-Z0-9]{1,2}[.):]\s*|\(\s*\d{1,2}\s*\)\s*)?\(?\s*(?:"
    r"(?:(?P<liver>liver|hepatic)|(?P<pancreas>pancreas|pancreatic)|"
    r"(?P<other>lymph\s+nodes?|stomach|duodenum|small\s+bowel|colon|rectum|lung|breast|bone|"
    r"prostate|adrenal|ovary|skin))(?=\s*[,:()]|\s+(?:segment|lobe|tail|head|body|uncinate|"
    r"biopsy|core|needle|resection|mass|lesion|nodule|tissue|wedge|s\d))|"
    r"(?P<liver_zh>肝)|(?P<pancreas_zh>胰)|(?P<other_zh>淋巴结|胃|十二指肠|肠|肺|乳腺|骨|前列腺))",
    re.IGNORECASE,
)
_LIVER_METASTASIS = re.compile(
    r"肝转移|转移至肝|metasta\w*\s+(?:to|in|within)\s+(?:the\s+)?liver", re.IGNORECASE
)


@dataclass(frozen=True)
class CodedTissue:
    """Tissue facts from coded Observations: by Observation, and by (kind, date) with sites."""

    by_ref: dict[str, frozenset[str]]
    by_kind_date: dict[tuple[str, date | None], frozenset[str]]

    @classmethod
    def of(cls, facts: Iterable[Fact]) -> CodedTissue:
        """Index the coded tissue facts among already mapped facts."""
        by_ref: dict[str, set[str]] = {}
        by_kind_date: dict[tuple[str, date | None], set[str]] = {}
        for fact in facts:
            if fact.kind in TISSUE_KINDS and FROM_REPORT_TEXT not in fact.flags:
                by_ref.setdefault(fact.ref, set()).add(fact.kind)
                by_kind_date.setdefault((fact.kind, fact.when), set()).add(fact.site)
        return cls(
            {k: frozenset(v) for k, v in by_ref.items()},
            {k: frozenset(v) for k, v in by_kind_date.items()},
        )

    def same_result(self, fact: Fact) -> bool:
        """A coded result of the same kind and date, at the same site or either site unknown."""
        coded = self.by_kind_date.get((fact.kind, fact.when))
        if not coded:
            return False
        return fact.site == UNKNOWN_SITE or fact.site in coded or UNKNOWN_SITE in coded


@dataclass
class _Reading:
    """What one report's text gives: facts as (kind, value, text, site, extra flags), problems."""

    options: MappingOptions
    found: list[tuple[str, Any, str, str, tuple[str, ...]]]
    unread: set[str]
    problems: list[str]
    mentions: dict[str, int] = field(default_factory=dict)

    def add(self, kind: str, value: Any, text: str, site: str, extra: tuple[str, ...] = ()) -> None:
        self.found.append((kind, value, text, site, extra))

    def another(self, kind: str) -> bool:
        """Count one more mention of a kind; False past MAX_MENTIONS (reported once)."""
        seen = self.mentions.get(kind, 0) + 1
        self.mentions[kind] = seen
        if seen == MAX_MENTIONS + 1:
            self.problems.append(_(_TOO_MANY[kind], limit=MAX_MENTIONS))
        return seen <= MAX_MENTIONS


MAX_MENTIONS = 50
"""Mentions of one fact read per report: a real report has a handful; this bounds the work."""
_TOO_MANY = {
    "ki67": N_("pathology report text: more than {limit} Ki-67 mentions; the rest not read"),
    "mitotic-count": N_(
        "pathology report text: more than {limit} mitosis mentions; the rest not read"
    ),
    "who-grade": N_("pathology report text: more than {limit} grade mentions; the rest not read"),
}


def _number(text: str) -> float:
    return float(text.replace(",", "."))


def _bound(match: re.Match[str]) -> tuple[float, str | None, float | None]:
    """Value, comparator and a range's low end of a matched number, range or bound."""
    cmp = (match.group("cmp") or "").lower()
    cmp = _CMP_WORDS.get(re.sub(r"\s+", " ", cmp), cmp) or None
    groups = match.groupdict()
    suffix = groups.get("sfx")
    if suffix:
        cmp = "<=" if suffix == "以下" else ">="
    if match.group("hi"):  # a range: its high end, and its low end kept as a bound
        low, high = sorted((_number(match.group("lo")), _number(match.group("hi"))))
        return high, None, low
    return _number(match.group("lo")), cmp, None


# WHO 2019 grade definitions as synoptic reports print them beside the chosen grade ("G2,
# intermediate grade (2-20 mitoses/2 mm2 and/or 3%-20% Ki-67 index)"): not measurements.
_DEFINITIONS = {
    "ki67": {(3.0, "<"), (20.0, ">"), (20.0, "3-20")},
    "mitotic-count": {(2.0, "<"), (20.0, ">"), (20.0, "2-20")},
}
_AND_OR = re.compile(r"and\s*/\s*or|和/或", re.IGNORECASE)


def _is_cut_off(kind: str, match: re.Match[str]) -> bool:
    """Whether a matched value is a WHO grade cut-off ('<3%', '2-20', '>20')."""
    low, high = match.group("lo"), match.group("hi")
    if high:
        key = (_number(high), f"{_number(low):g}-{_number(high):g}")
    else:
        key = (_number(low), _CMP_WORDS.get((match.group("cmp") or "").lower(), match.group("cmp")))
    return key in _DEFINITIONS[kind]


def _defines_grades(text: str) -> bool:
    """Whether a sentence prints grade definitions: it names a grade and says 'and/or'."""
    return bool(_AND_OR.search(text) and _GRADE.search(text))


def _ki67(sentence: Sentence, site: str, reading: _Reading) -> None:
    text = sentence.text
    for label in _KI67.finditer(text):
        if not reading.another("ki67"):
            return
        if not sentence.asserted(label.start(), label.end()):
            continue
        after = _KI67_VALUE.match(text, label.end())
        window = max(0, label.start() - 60)  # a bounded look back, never the whole sentence
        before = None if after else _KI67_BEFORE.search(text, window, label.start())
        match = after or before
        if match is None:
            reading.unread.add("ki67")
            continue
        if after and after.group("neg"):
            reading.problems.append(_("report text: Ki-67 outside 0–100 %; not used"))
            continue
        if _is_cut_off("ki67", match) and _defines_grades(text):
            continue
        value, cmp, low = _bound(match)
        if not 0 <= value <= 100:
            reading.problems.append(_("report text: Ki-67 outside 0–100 %; not used"))
            continue
        q = Quantity(value, "%", cmp, None, low)
        reading.add("ki67", q, sited(_("Ki-67 {value}", value=q.display()), site), site)


def _mitoses(sentence: Sentence, site: str, reading: _Reading) -> None:
    text = sentence.text
    zeros = list(_NO_MITOSES.finditer(text))
    if zeros:  # "no mitoses identified", "未见核分裂象": a count of 0 in any unit
        q = Quantity(0.0, "/2 mm²")
        reading.add("mitotic-count", q, sited(_("mitoses {value}", value=q.display()), site), site)
    in_zeros = {m.start() for z in zeros for m in _MITOSES.finditer(text, z.start(), z.end())}
    for label in _MITOSES.finditer(text):
        if not reading.another("mitotic-count"):
            return
        if label.start() in in_zeros:
            continue
        if not sentence.asserted(label.start(), label.end()):
            continue
        match = _MITOSES_VALUE.match(text, label.end())
        per_mm, per_hpf = (match.group("mm"), match.group("hpf")) if match else (None, None)
        if match is None or not (per_mm or per_hpf):
            # "3 mitoses per 2 mm²": the number before the label, the unit after it
            before = _MITOSES_BEFORE.search(text, max(0, label.start() - 40), label.start())
            unit = _UNIT_AFTER_LABEL.match(text, label.end())
            if before is None or unit is None:
                reading.unread.add("mitotic-count")
                continue
            match, per_mm, per_hpf = before, unit.group("mm"), unit.group("hpf")
        if match.groupdict().get("neg"):
            reading.problems.append(_("report text: negative mitotic count; not used"))
            continue
        if _is_cut_off("mitotic-count", match) and _defines_grades(text):
            continue
        value, cmp, low = _bound(match)
        extra: tuple[str, ...] = ()
        if per_hpf:
            factor = reading.options.mitoses_per_10hpf_to_2mm2
            if factor is None:
                reading.problems.append(
                    _("report text: mitoses per 10 HPF need a site conversion; ignored")
                )
                continue
            value *= factor
            low = low * factor if low is not None else None
            extra = (_("converted from per 10 HPF ×{factor:g}", factor=factor),)
        q = Quantity(value, "/2 mm²", cmp, None, low)
        text_ = sited(_("mitoses {value}", value=q.display()), site)
        reading.add("mitotic-count", q, text_, site, extra)


_ROMAN = {"I": 1, "II": 2, "III": 3, "一": 1, "二": 2, "三": 3}


def _grade(sentence: Sentence, site: str, reading: _Reading) -> None:
    text = sentence.text
    read_any = False
    for match in _GRADE.finditer(text):
        if not reading.another("who-grade"):
            return
        if not sentence.asserted(match.start(), match.end()):
            read_any = True  # governed by a cue: deliberately not read
            continue
        if _OTHER_GRADES.search(text, max(0, match.start() - 20), match.start()):
            read_any = True  # a nuclear or Gleason grade is not a WHO grade
            continue
        if match.group("span") or match.group("span2"):
            reading.unread.add("who-grade")  # "G1-G2": not one grade
            read_any = True
            continue
        raw = match.group("g") or match.group("n") or match.group("c") or ""
        if match.group("w"):  # CAP wording: G1 low, G2 intermediate, G3 high grade
            grade = _WORD_GRADES[match.group("w").lower()]
        else:
            grade = int(raw) if raw.isdigit() else _ROMAN[raw.upper()]
        read_any = True
        text_ = sited(_("reported WHO grade G{grade}", grade=grade), site)
        reading.add("who-grade", grade, text_, site)
    if not read_any:
        for mention in _GRADE_MENTION.finditer(text):
            if sentence.asserted(mention.start(), mention.end()) and not _OTHER_GRADES.search(
                text, max(0, mention.start() - 20), mention.start()
            ):
                reading.unread.add("who-grade")


def _differentiation(sentence: Sentence, site: str, reading: _Reading, nec: bool) -> None:
    text = sentence.text
    mixed = bool(_OTHER_CARCINOMA.search(text))  # a mixed or other carcinoma's differentiation
    found: set[str] = set()
    for pattern, value in ((_WELL, "well"), (_POORLY, "poorly"), (_MODERATELY, "")):
        for match in pattern.finditer(text):
            if sentence.asserted(match.start(), match.end()):
                if mixed or not value:
                    reading.unread.add("differentiation")
                else:
                    found.add(value)
    if nec and not found and not mixed:
        for match in _NEC.finditer(text):
            if sentence.asserted(match.start(), match.end()):
                found.add("poorly")
    for value in sorted(found):
        text_ = sited(_(DIFFERENTIATED[value]), site)
        reading.add("differentiation", value, text_, site)


def _net_differentiation(sentence: Sentence, site: str, reading: _Reading) -> None:
    """'NET G3', 'Neuroendocrine tumour, WHO grade 3', '神经内分泌瘤 G3': well differentiated.

    Only with a single WHO grade in the same sentence (the WHO classification's own wording)
    and no differentiation word, carcinoma or NEC there (those decide instead, or leave it open).
    """
    text = sentence.text
    if any(p.search(text) for p in (_WELL, _POORLY, _MODERATELY, _NEC, _OTHER_CARCINOMA)):
        return
    if "carcinoma" in text.casefold() or "癌" in text:
        return
    net = any(sentence.asserted(m.start(), m.end()) for m in _NET.finditer(text))
    graded = any(
        sentence.asserted(m.start(), m.end())
        and not (m.group("span") or m.group("span2"))
        and not _OTHER_GRADES.search(text, max(0, m.start() - 20), m.start())
        for m in _GRADE.finditer(text)
    )
    if net and graded:
        text_ = sited(_(DIFFERENTIATED["well"]), site)
        reading.add("differentiation", "well", text_, site)


def _header_site(sentence: str) -> str | None:
    """The site a sentence names as a specimen header, or None when it is not a header."""
    match = _HEADER.match(sentence)
    if match is None:
        return None
    if match.group("liver") or match.group("liver_zh") or _LIVER_METASTASIS.search(sentence):
        return LIVER
    if match.group("pancreas") or match.group("pancreas_zh"):
        return PRIMARY
    return UNKNOWN_SITE


# A part label starting a sentence ("B. …", "Part 2:", "(3)"): a new specimen of the report.
_PART_LABEL = re.compile(
    r"\s*(?:(?:part|specimen)\s+)?(?:[A-Z]|\d{1,2})\s*[.):]\s|\s*\(\s*\d{1,2}\s*\)"
)
_LABEL_ONLY = re.compile(r"\s*(?:(?:part|specimen)\s+)?(?:[A-Z]|\d{1,2})\s*$", re.IGNORECASE)
_TISSUE_HINT = re.compile(r"ki|mib|mito|grade|(?<![a-z])g\s?[123]")
_OTHER_PART = N_(
    "pathology report: a part about another tumour gives Ki-67, mitoses or a grade; not used "
    "for the pNEN"
)

_UNREAD = {
    "ki67": N_("pathology report mentions Ki-67 but the value could not be read"),
    "mitotic-count": N_("pathology report mentions mitoses but the count could not be read"),
    "who-grade": N_("pathology report mentions a grade but it could not be read"),
    "differentiation": N_(
        "pathology report mentions differentiation but it could not be read as well or poorly "
        "differentiated"
    ),
}


def _specimen_sites(report: dict[str, Any], sites: SiteIndex) -> set[str]:
    found = set()
    for i, ref in enumerate(objects(report, "specimen")):
        target = local_ref(string(ref, "reference", f"specimen[{i}]."))
        if target and target in sites.specimens:
            found.add(sites.specimens[target])
    return found


def read_text(
    text: str, specimen_sites: set[str], wanted: frozenset[str], options: MappingOptions
) -> tuple[list[tuple[str, Any, str, str, tuple[str, ...]]], list[str]]:
    """Tissue readings of a normalized report text, and problems (unread mentions included)."""
    reading = _Reading(options, [], set(), [])
    if not NEN.search(text):
        # Not a neuroendocrine neoplasm's report: its Ki-67 may be another cancer's.
        if "ki67" in wanted and _KI67.search(text):
            reading.problems.append(
                _("pathology report gives Ki-67 without naming a neuroendocrine neoplasm; not used")
            )
        return [], reading.problems
    single = next(iter(specimen_sites)) if len(specimen_sites) == 1 else None
    nec = not _WELL.search(text)
    current = UNKNOWN_SITE
    # The current part of the report is about another tumour ("B. Sigmoid colon: adenocarcinoma,
    # Ki-67 70 %"). Once a part has named a NEN, another tumour named later in it (a differential
    # "against adenocarcinoma", "acinar cell carcinoma is excluded") sets aside that sentence at
    # most, never the rest of the part.
    other_part = part_nen = False
    for raw in sentences(text):
        if _LABEL_ONLY.match(raw):  # "B." ends a 'sentence' of its own: the next one starts B
            other_part = part_nen = False
            continue
        header = _header_site(raw)
        current = header or current
        if header or _PART_LABEL.match(raw):
            other_part = part_nen = False  # a new specimen part: whatever it names decides
        site = single or (
            current if not specimen_sites or current in specimen_sites else UNKNOWN_SITE
        )
        sentence = Sentence(raw)
        if NEN.search(raw):
            other_part, part_nen = False, True
        elif other_tumour_named(sentence):
            other_part = True
        elif part_nen:
            other_part = False
        # Substring hints first: most sentences of a report mention none of the four.
        folded = raw.casefold()
        if other_part:
            # "B. Sigmoid colon: adenocarcinoma, Ki-67 70 %": another tumour's values, not the
            # pNEN's, however the report places them; named once, never read.
            if _TISSUE_HINT.search(folded) or "核分裂" in raw or "级" in raw:
                problem = _(_OTHER_PART)
                if problem not in reading.problems:
                    reading.problems.append(problem)
            continue
        if "ki67" in wanted and ("ki" in folded or "mib" in folded):
            _ki67(sentence, site, reading)
        if "mitotic-count" in wanted and ("mito" in folded or "核分裂" in raw):
            _mitoses(sentence, site, reading)
        if "who-grade" in wanted and ("grade" in folded or "级" in raw or _GRADE_HINT.search(raw)):
            _grade(sentence, site, reading)
        if "differentiation" in wanted and (
            "differentiat" in folded
            or "分化" in raw
            or (nec and ("carcinoma" in folded or "NEC" in raw or "癌" in raw))
        ):
            _differentiation(sentence, site, reading, nec)
        if (
            "differentiation" in wanted
            and ("grade" in folded or "级" in raw or _GRADE_HINT.search(raw))
            and _NET.search(raw)
        ):
            _net_differentiation(sentence, site, reading)
    read = {kind for kind, *_ in reading.found}
    problems = reading.problems + [
        _(_UNREAD[k]) for k in TISSUE_KINDS if k in reading.unread - read
    ]
    unique = list(dict.fromkeys((k, v, t, s, e) for k, v, t, s, e in reading.found))
    return unique, problems


def read_pathology_report(
    report: dict[str, Any],
    terms: Terminology,
    sites: SiteIndex,
    options: MappingOptions,
    coded: CodedTissue,
) -> tuple[list[Fact], list[str]]:
    """Tissue facts read from one pathology report's text, and problems reading it."""
    flags = result_status_flags(string(report, "status"), COUNTED)
    if flags is None:
        return [], []
    covered: set[str] = set()
    results = objects(report, "result")
    for i, result in enumerate(results):
        target = local_ref(string(result, "reference", f"result[{i}]."))
        covered |= coded.by_ref.get(target or "", frozenset())
    wanted = frozenset(TISSUE_KINDS) - covered
    if not wanted:
        return [], []
    text, problems = report_text(report)
    if covered:
        problems = []  # coded results came with it: an unreadable attachment loses nothing known
    if not text.strip():
        if not results and not problems:
            problems.append(_("pathology report has neither results nor text the service can read"))
        return [], problems
    readings, more = read_text(text, _specimen_sites(report, sites), wanted, options)
    period = obj(report, "effectivePeriod")
    when = (
        fhir_date(report, "effectiveDateTime")
        or (fhir_date(period, "start", "effectivePeriod.") if period else None)
        or fhir_date(report, "issued")
    )
    ref = ref_of(report)
    facts = [
        Fact(kind, value, when, ref, text_, site, (*flags, FROM_REPORT_TEXT, *extra))
        for kind, value, text_, site, extra in readings
    ]
    return [f for f in facts if not coded.same_result(f)], problems + more
