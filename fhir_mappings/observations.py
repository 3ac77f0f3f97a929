"""Observation → measurement facts (fhir-mapping.md, "Observations")."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from fhir_mappings import sites
from fhir_mappings.facts import (
    LIVER,
    PRIMARY,
    UNKNOWN_SITE,
    Fact,
    Quantity,
)
from fhir_mappings.shape import (
    ShapeError,
    all_text,
    concept_text,
    fhir_date,
    local_ref,
    number,
    obj,
    objects,
    ref_of,
    reference,
    result_status_flags,
    string,
)
from fhir_mappings.terminology import PNEN, SNOMED, Terminology
from fhir_mappings.values import (
    cell_count_percent,
    ihc_result,
    ihc_score,
    metastasis_kinds,
    staging_facts,
    value_from_text,
)
from pnen_i18n import N_, _

COUNTED = frozenset({"final", "amended", "corrected"})
_OBSERVATION_STATUSES = frozenset(
    {"registered", "preliminary", *COUNTED, "cancelled", "entered-in-error", "unknown"}
)
LABS = (
    "cga",
    "nse",
    "gastrin",
    "insulin",
    "glucagon",
    "vip",
    "somatostatin",
    "pancreatic-polypeptide",
)
NUMERIC_ASSESSMENTS = (
    "remnant-liver-volume",
    "liver-tumor-burden",
    "deep-lesion-count",
    "liver-segments-involved",
    "primary-tumor-size",
)
BOOLEAN_ASSESSMENTS = (
    "r0-r1-feasible",
    "ned",
    "ned-achievable",
    "cytoreduction-90-achievable",
    "most-lesions-within-2cm-of-surface",
    "confined-to-one-lobe",
    "major-vessel-invasion",
    "hormone-symptoms-refractory",
    "splenic-vessel-invasion",
    "tumor-thrombus",
    "high-nodal-risk",
    "primary-resectable",
)
GENES = ("RB1", "TP53", "BRCA2", "DAXX", "ATRX", "MEN1", "NTRK1", "NTRK2", "NTRK3", "RET")
VESSELS = ("SMV", "PV", "SMA", "CT", "CHA")
# mCODE ConditionStatusTrendVS (github.com/HL7/fhir-mCODE-ig): STU1/2 express "no evidence of
# disease" as 260415000 "Not detected", a later draft as 281900007 "No abnormality detected";
# both are remission (NED) here, like the SNOMED remission disorders.
_DISEASE_STATUS = {
    "271299001": "progression",
    "260415000": "remission",
    "281900007": "remission",
    "359746009": "stable",
    "268910001": "improved",
    "550991000124107": "remission",
    "551001000124108": "remission",
    "103338009": "remission",
    "103337004": "remission",
    "709137006": "undetermined",
}
_YES, _NO = "373066001", "373067005"
_POSITIVE, _NEGATIVE = "10828004", "260385009"
_PRESENT = "LA9633-4"
_MSI_HIGH = "LA26203-2"
# The common printed forms ('15%', '<2 %', '5-10 %', '2%-5%', '80 ng/mL'); a unit never starts
# with a separator, so '20,5 %' falls through to values.value_from_text (decimal comma), not '20'.
_NUMBER = re.compile(
    r"^\s*(<=|>=|<|>|≤|≥)?\s*(\d+(?:\.\d+)?)\s*(?:%?\s*(?:-|–|to)\s*(\d+(?:\.\d+)?))?\s*(%|[^\d\s,.;:].*)?$"
)
_COMPARATORS = {"≤": "<=", "≥": ">="}
_FHIR_COMPARATORS = (None, "<", "<=", ">", ">=")
# A printed WHO grade ('2', 'G2', 'grade 2'), possibly after its family ('NET G2', 'NEC, G3').
_PRINTED_GRADE = re.compile(
    r"(?:(net|nec)\s*[,:(]?\s*)?(?:who\s*)?(?:grade\s*|g\s*)?([123]|i{1,3})\)?"
)
_ROMAN = {"i": "1", "ii": "2", "iii": "3"}
_REMARK = re.compile(r"\s*\([^()]*\)\s*$")  # 'G3 (WHO 2019)': the remark names no grade
_SAME_UNITS = {
    "ug/l": "ng/mL",
    "µg/l": "ng/mL",
    "μg/l": "ng/mL",
    "ng/ml": "ng/mL",
    "ng/l": "pg/mL",
    "pg/ml": "pg/mL",
    "pmol/l": "pmol/L",
    "nmol/l": "nmol/L",
    "percent": "%",
    "pct": "%",
}
_CANONICAL_UNITS = frozenset(
    {"%", "ng/mL", "pg/mL", "pmol/L", "nmol/L", "U/L", "mL/min/1.73m2", ""}
)
_RELATED_CONDITION = "related-condition"
# What a code's text or display calls a Ki-67 index or a mitotic count (for unrecognised codes).
_KI67_NAME = re.compile(r"(?<![a-z])ki[-\s]?67(?!\d)|(?<![a-z])mib[-\s]?1(?!\d)", re.IGNORECASE)
_MITOSES_NAME = re.compile(r"(?<![a-z])mitos[ie]s|(?<![a-z])mitotic|核分裂", re.IGNORECASE)
_PER_HPF = re.compile(r"hpf|high[\s-]*power", re.IGNORECASE)
_PER_AREA = re.compile(
    r"^(?:(?:mitos[ie]s|mitotic\s+figures?)\s*)?(?:/|per)\s*(\d+(?:\.\d+)?)?\s*mm(?:2|²|\^2)$",
    re.IGNORECASE,
)
_HPF_FIELDS = re.compile(r"(\d+)\s*(?:hpf|high)", re.IGNORECASE)
_RESULT_SITES = {sites.PANCREAS: PRIMARY, sites.LIVER: LIVER}
_new = tuple.__new__  # builds a Quantity or Fact from all its fields (see _quantity)


@dataclass(frozen=True)
class MappingOptions:
    """Site-configurable mapping choices (lossy conversions are explicit here)."""

    mitoses_per_10hpf_to_2mm2: float | None = None


@dataclass(frozen=True)
class SiteIndex:
    """What tells a pathology result's site: Specimen sites and the Conditions of each site."""

    specimens: Mapping[str, str]
    primary_conditions: frozenset[str]
    liver_conditions: frozenset[str]


def body_site(concept: Any, terms: Terminology) -> str | None:
    """'liver' or 'primary' for a body-site CodeableConcept (coded or text), else None."""
    return _RESULT_SITES.get(sites.site_class(concept, terms) or "")


def map_specimen(specimen: dict[str, Any], terms: Terminology) -> str | None:
    """The site a Specimen was collected from (primary or liver; coded or text), or None."""
    collection = obj(specimen, "collection")
    if collection is None:
        return None
    return body_site(obj(collection, "bodySite", "collection."), terms)


def _contained_specimen_site(
    observation: dict[str, Any], ref: str | None, terms: Terminology
) -> str | None:
    """The site of a contained Specimen the result names as '#id', or None."""
    if not ref or not ref.startswith("#"):
        return None
    for contained in objects(observation, "contained"):
        if contained.get("resourceType") == "Specimen" and contained.get("id") == ref[1:]:
            return map_specimen(contained, terms)
    return None


def _result_site(observation: dict[str, Any], sites: SiteIndex, terms: Terminology) -> str:
    raw = reference(observation, "specimen")
    specimen = local_ref(raw)
    if specimen and specimen in sites.specimens:
        return sites.specimens[specimen]
    contained = _contained_specimen_site(observation, raw, terms)
    if contained:
        return contained
    site = body_site(obj(observation, "bodySite"), terms)
    if site:
        return site
    targets = [string(f, "reference", "focus.") for f in objects(observation, "focus")]
    for ext in objects(observation, "extension"):
        url = ext.get("url")
        if isinstance(url, str) and url.endswith(_RELATED_CONDITION):
            targets.append(reference(ext, "valueReference", "extension."))
    for target in map(local_ref, targets):
        if target in sites.primary_conditions:
            return PRIMARY
        if target in sites.liver_conditions:
            return LIVER
    return UNKNOWN_SITE


def _codes(value: Any) -> set[tuple[str, str]]:
    if not isinstance(value, dict):
        return set()
    pairs = set()
    for coding in value.get("coding") or []:
        if isinstance(coding, dict):
            pairs.add((str(coding.get("system")), str(coding.get("code"))))
    return pairs


def _code_set(value: Any) -> set[str]:
    return {code for _, code in _codes(value)}


def _same_unit(unit: str) -> str:
    if unit in _CANONICAL_UNITS:
        return unit
    return _SAME_UNITS.get(unit.strip().lower(), unit.strip())


def _quantity(holder: dict[str, Any], path: str) -> tuple[Quantity, tuple[str, ...]] | None:
    """The numeric value of an Observation or component in any listed shape."""
    flags: tuple[str, ...] = ()
    high_ref = _reference_high(holder, path) if "referenceRange" in holder else None
    # The common result, a valueQuantity, is read with as few calls as its shape allows: obj()
    # and string() are called only for an element that is not plainly of its type, to report it.
    qty = holder.get("valueQuantity")
    if qty is not None and type(qty) is not dict:
        qty = obj(holder, "valueQuantity", path)
    if qty is not None:
        where = f"{path}valueQuantity."
        value = number(qty, "value", where)
        if value is None:
            return None
        unit = qty.get("unit")
        if unit is not None and type(unit) is not str:
            unit = string(qty, "unit", where)
        unit = unit or string(qty, "code", where)
        comparator = qty.get("comparator")
        if comparator not in _FHIR_COMPARATORS:
            string(qty, "comparator", where)  # not a string: reported as such
            raise ShapeError(_("{element}: not a FHIR comparator", element=where + "comparator"))
        unit = unit if unit in _CANONICAL_UNITS else _same_unit(unit or "")
        # Every field given, so built by tuple.__new__ without NamedTuple's Python-level __new__
        # (several times cheaper).
        return _new(Quantity, (value, unit, comparator, high_ref, None)), flags
    rng = obj(holder, "valueRange", path)
    if rng is not None:
        high = obj(rng, "high", f"{path}valueRange.")
        low = obj(rng, "low", f"{path}valueRange.")
        ends = [
            number(end, "value", f"{path}valueRange.") if end is not None else None
            for end in (low, high)
        ]
        bound = high if ends[1] is not None else low
        if bound is None or (ends[0] is None and ends[1] is None):
            return None
        unit = _same_unit(string(bound, "unit", f"{path}valueRange.") or "")
        if ends[0] is not None and ends[1] is not None:  # both ends: a bound of each
            if ends[0] > ends[1]:  # which end was mis-keyed is unknown: never swapped
                raise ShapeError(
                    _("{element}: low is above high; not used", element=f"{path}valueRange")
                )
            return Quantity(ends[1], unit, None, high_ref, ends[0]), flags
        if ends[1] is not None:
            return Quantity(ends[1], unit, "<=", high_ref), flags
        return Quantity(ends[0] or 0.0, unit, ">=", high_ref), flags
    integer = holder.get("valueInteger")
    if integer is not None:
        if isinstance(integer, bool) or not isinstance(integer, int):
            raise ShapeError(_("{element}: expected an integer", element=path + "valueInteger"))
        return Quantity(float(integer), "", None, high_ref), flags
    ratio = obj(holder, "valueRatio", path)
    if ratio is not None:
        return _ratio(ratio, f"{path}valueRatio.", high_ref)
    text = string(holder, "valueString", path)
    if text is not None:
        match = _NUMBER.match(text)
        if not match:
            read = value_from_text(text)
            if read is None:
                return None
            q, extra = read
            return q._replace(unit=_same_unit(q.unit), reference_high=high_ref), extra
        comparator = _COMPARATORS.get(match.group(1) or "", match.group(1))
        low_value, high_value = float(match.group(2)), match.group(3)
        unit = (match.group(4) or "").strip()
        if high_value is not None:  # a range: both ends kept (a bound of each)
            bottom, top = sorted((low_value, float(high_value)))
            return Quantity(top, _same_unit(unit), None, high_ref, bottom), flags
        return Quantity(low_value, _same_unit(unit), comparator, high_ref), flags
    return None


def _ratio(
    ratio: dict[str, Any], path: str, high_ref: float | None
) -> tuple[Quantity, tuple[str, ...]] | None:
    """numerator/denominator: a fraction ('150 of 1000 cells' → unit '1') or a per-area count."""
    numerator = obj(ratio, "numerator", path)
    denominator = obj(ratio, "denominator", path)
    if numerator is None or denominator is None:
        return None
    top = number(numerator, "value", f"{path}numerator.")
    bottom = number(denominator, "value", f"{path}denominator.")
    if top is None or bottom is None:
        return None
    if bottom <= 0:
        raise ShapeError(_("{element}: not a positive number", element=path + "denominator.value"))
    top_unit = string(numerator, "unit", f"{path}numerator.") or ""
    bottom_unit = string(denominator, "unit", f"{path}denominator.") or ""
    if bottom_unit in ("", "1", "{cells}", "cells") and top_unit in ("", "1", "{cells}", "cells"):
        return Quantity(top / bottom, "1", None, high_ref), ()
    # A count over an area or field: kept as 'per <denominator>' for the handler to scale.
    return Quantity(top, f"/{bottom:g} {bottom_unit}".strip(), None, high_ref), ()


def _reference_high(holder: dict[str, Any], path: str) -> float | None:
    for ref_range in objects(holder, "referenceRange", path):
        high = obj(ref_range, "high", f"{path}referenceRange.")
        if high is not None:
            return number(high, "value", f"{path}referenceRange.high.")
    return None


def _boolean(holder: dict[str, Any], path: str) -> bool | None:
    value = holder.get("valueBoolean")
    if value is not None:
        if not isinstance(value, bool):
            raise ShapeError(_("{element}: expected a boolean", element=path + "valueBoolean"))
        return value
    codes = _codes(obj(holder, "valueCodeableConcept", path))
    if (SNOMED, _YES) in codes:
        return True
    if (SNOMED, _NO) in codes:
        return False
    text = (string(holder, "valueString", path) or "").strip().lower()
    if text in {"yes", "true", "y"}:
        return True
    if text in {"no", "false", "n"}:
        return False
    return None


def _coded_or_string(holder: dict[str, Any], path: str) -> tuple[set[str], str]:
    """Codes of valueCodeableConcept and the value text (valueString or concept text)."""
    concept = obj(holder, "valueCodeableConcept", path)
    text = string(holder, "valueString", path) or concept_text(concept)
    return _code_set(concept), text.strip()


def _pnen_code(holder: dict[str, Any], path: str) -> str | None:
    concept = obj(holder, "valueCodeableConcept", path)
    for system, code in _codes(concept):
        if system == PNEN:
            return code
    return None


def _ki67(q: Quantity) -> Quantity:
    if q.unit == "1" and q.value <= 1:
        low = q.low * 100 if q.low is not None else None
        return q._replace(value=q.value * 100, unit="%", reference_high=None, low=low)
    return q._replace(unit="%", reference_high=None)


def _mgmt(holder: dict[str, Any], path: str) -> int | None:
    codes, text = _coded_or_string(holder, path)
    candidates = list(codes) + [text]
    for item in candidates:
        word = item.strip().lower().replace(" ", "")
        if word in {"negative", "loss", "lost"}:
            return 0
        match = re.fullmatch(r"([0-3])\+?", word)
        if match:
            return int(match.group(1))
    if text in codes:  # a bare code ('LA9634-2') is no printed result
        return None
    return ihc_score(text)  # as printed: 'Loss of expression (0)', '3+ in 80% of tumour cells'


def _sstr2(holder: dict[str, Any], path: str) -> str | None:
    codes, text = _coded_or_string(holder, path)
    if _POSITIVE in codes or text.lower() == "positive":
        return "positive"
    if _NEGATIVE in codes or text.lower() == "negative":
        return "negative"
    score = _mgmt(holder, path)
    if score is None:
        # Worded only ('strongly positive', 'not detected', '阳性（+++）'): positive or negative.
        return ihc_result(text)
    if ihc_result(text) == ("positive" if score == 0 else "negative"):
        return None  # a score and a word that disagree: never read
    return f"{score}+" if score else "0"


_GENERIC_GRADES = {"histologic-grade-1": 1, "histologic-grade-2": 2, "histologic-grade-3": 3}


def _grade(holder: dict[str, Any], path: str, terms: Terminology) -> int | None:
    value_concepts = terms.concepts_of(obj(holder, "valueCodeableConcept", path))
    for concept, grade in _GENERIC_GRADES.items():
        if concept in value_concepts:
            return grade
    codes, text = _coded_or_string(holder, path)
    for item in [*codes, text, _REMARK.sub("", text)]:
        match = _PRINTED_GRADE.fullmatch(item.strip().lower())
        if match:
            return int(_ROMAN.get(match.group(2), match.group(2)))
    return None


def _grade_family(holder: dict[str, Any], path: str) -> str | None:
    """'well' for a grade printed as 'NET G2', 'poorly' for 'NEC G3' (WHO 2019), else None."""
    codes, text = _coded_or_string(holder, path)
    for item in [*codes, text]:
        match = _PRINTED_GRADE.fullmatch(item.strip().lower())
        if match and match.group(1):
            return "well" if match.group(1) == "net" else "poorly"
    return None


def _differentiation(holder: dict[str, Any], path: str, terms: Terminology) -> str | None:
    concept = obj(holder, "valueCodeableConcept", path)
    value_concepts = terms.concepts_of(concept)
    if "morphology-poorly-differentiated" in value_concepts:
        return "poorly"
    if not value_concepts.isdisjoint(_GENERIC_GRADES):
        # 'Grade 3: poorly differentiated' is a histologic grade: for an NEN it is not a
        # differentiation (a G3 NET is well differentiated).
        return None
    codes, text = _coded_or_string(holder, path)
    words = {c.lower() for c in codes} | {text.lower()}
    if any(w.startswith("poor") for w in words):
        return "poorly"
    if any(w.startswith("well") for w in words):
        return "well"
    # Within a phrase ('high grade / poorly differentiated'), only when it names one of the two.
    named = {m.group(1).lower() for m in _DIFFERENTIATED_WORD.finditer(text)}
    if len(named) == 1 and not _NEGATED.search(text):
        return "poorly" if named == {"poorly"} else "well"
    return None


_DIFFERENTIATED_WORD = re.compile(r"\b(poorly|well)[\s-]*differentiated\b", re.IGNORECASE)
_NEGATED = re.compile(r"\b(?:not|no|non)\b", re.IGNORECASE)


def staging_texts(holder: dict[str, Any], path: str, terms: Terminology) -> list[str]:
    """Every text a TNM value may name its category in: codes, string, displays (sent or known)."""
    concept = obj(holder, "valueCodeableConcept", path)
    texts = [string(holder, "valueString", path) or ""]
    if concept is not None:
        texts.append(concept_text(concept))
        for coding in objects(concept, "coding", f"{path}valueCodeableConcept."):
            system, code = coding.get("system"), coding.get("code")
            if isinstance(code, str):
                texts.append(code)
                if isinstance(system, str):
                    # The category is read from the ValueSet's own display, not a translation.
                    texts.append(terms.display(system, code, translated=False) or "")
            if isinstance(coding.get("display"), str):
                texts.append(coding["display"])
    return texts


def _enets_type(holder: dict[str, Any], path: str) -> str | None:
    code = _pnen_code(holder, path)
    if code in {"type-I", "type-II", "type-III"}:
        return code[5:]
    _, text = _coded_or_string(holder, path)
    match = re.fullmatch(r"(?:type\s*)?(I{1,3})", text.strip(), re.IGNORECASE)
    return match.group(1).upper() if match else None


# The shipped ValueSets' titles of the measured concepts, for the catalogue (a site ValueSet's
# own title is shown as written).
_TITLES = frozenset(
    {
        N_("Ki-67 proliferation index"),
        N_("Mitotic count"),
        N_("WHO grade (reported)"),
        N_("Differentiation"),
        N_("MGMT immunohistochemistry"),
        N_("SSTR2 immunohistochemistry"),
        N_("Chromogranin A"),
        N_("Neuron-specific enolase"),
        N_("Gastrin"),
        N_("Insulin"),
        N_("Glucagon"),
        N_("Vasoactive intestinal peptide"),
        N_("Somatostatin"),
        N_("Pancreatic polypeptide"),
        N_("Estimated glomerular filtration rate"),
        N_("Expected remnant liver volume (%)"),
        N_("Liver tumour burden (%)"),
        N_("Deep liver lesions (count)"),
        N_("Liver segments involved (count)"),
        N_("Primary tumour size (mm)"),
        N_("R0/R1 resection feasible"),
        N_("No evidence of disease"),
        N_("NED achievable"),
        N_("Most lesions on or within 2 cm of liver surface"),
        N_("Metastases confined to one lobe"),
        N_("Major intrahepatic vessel invasion"),
        N_("Hormone symptoms refractory"),
        N_("Splenic vessel invasion"),
        N_("Tumour thrombus"),
        N_("High risk of nodal metastasis"),
        N_("Primary tumour resectable"),
        N_("PD-L1 combined positive score"),
        N_("Tumour mutational burden"),
    }
)


# A title whose '% c' the catalogue tools would read as a printf placeholder: its threshold is
# a placeholder instead.
_THRESHOLD_TITLES = {
    ">90 % cytoreduction achievable": (N_("{threshold} cytoreduction achievable"), ">90 %"),
}


def title(kind: str, terms: Terminology) -> str:
    """The name of a measured concept for people, in the request's language."""
    name = terms.titles.get(kind, kind)
    if name in _TITLES:
        return _(name)
    if name in _THRESHOLD_TITLES:
        message, threshold = _THRESHOLD_TITLES[name]
        return _(message, threshold=threshold)
    return name


def _titled(kind: str, q: Quantity, terms: Terminology) -> str:
    """'Chromogranin A 257 ng/mL': the concept's name, then the printed value (any language)."""
    name = terms.titles.get(kind, kind)
    name = _(name) if name in _TITLES else title(kind, terms)  # title()'s common case, inline
    if q.comparator is None and q.low is None:
        # Quantity.display() of a plain value, written out: one string built instead of four.
        unit = q.unit
        return f"{name} {q.value:g} %" if unit == "%" else f"{name} {q.value:g} {unit}".rstrip()
    return f"{name} {q.display()}"


def _value_element(holder: dict[str, Any]) -> str:
    """The value[x] element a result carries ('valueString'), or 'value[x]' when it has none."""
    return next((k for k in holder if k.startswith("value")), "value[x]")


def _unread(holder: dict[str, Any], path: str, kind: str, terms: Terminology) -> str:
    """The data issue of a result whose value (of any shape, or none) could not be read."""
    return _(
        "{element}: {test} could not be read; not used",
        element=path + _value_element(holder),
        test=title(kind, terms),
    )


def _unreadable(kind: str, path: str, terms: Terminology) -> str:
    return _(
        "{element}: {test} could not be read; not used",
        element=path + "valueString",
        test=title(kind, terms),
    )


_ABOVE_100 = N_("{test}: a percentage above 100 is impossible; not used")


def impossible(kind: str, q: Quantity, terms: Terminology) -> str | None:
    """Why a measured value cannot be true (a percentage outside 0–100, a negative amount)."""
    if q.value < 0 and q.comparator not in ("<", "<="):
        return _("{test}: a negative value is impossible; not used", test=title(kind, terms))
    if q.unit == "%" and q.value > 100 and q.comparator not in (">", ">="):
        return _(_ABOVE_100, test=title(kind, terms))
    if q.unit == "%" and q.value >= 100 and q.comparator in (">", ">="):
        return _(_ABOVE_100, test=title(kind, terms))
    return None


DIFFERENTIATED = {"well": N_("well differentiated"), "poorly": N_("poorly differentiated")}
"""A differentiation fact's value → its text (translated where the fact is built)."""


def sited(text: str, site: str) -> str:
    """A tissue result's text with its site: 'Ki-67 25 % (liver metastasis)', '… (primary)'."""
    if site == LIVER:
        return _("{finding} (liver metastasis)", finding=text)
    if site == PRIMARY:
        return _("{finding} (primary)", finding=text)
    return text


@dataclass
class _Context:
    ref: str
    when: date | None
    site: str
    flags: tuple[str, ...]
    terms: Terminology
    options: MappingOptions
    facts: list[Fact]
    issues: list[str]

    def add(self, kind: str, value: object, text: str, *, extra: tuple[str, ...] = ()) -> None:
        if isinstance(value, Quantity):
            problem = impossible(kind, value, self.terms)
            if problem:
                self.issues.append(problem)
                return
        self.facts.append(
            Fact(kind, value, self.when, self.ref, text, self.site, self.flags + extra)
        )

    def quantity(
        self, kind: str, holder: dict[str, Any], path: str
    ) -> tuple[Quantity, tuple[str, ...]] | None:
        """The numeric value; a printed value that cannot be read is reported, never dropped."""
        found = _quantity(holder, path)
        if found is None and isinstance(holder.get("valueString"), str):
            self.issues.append(_unreadable(kind, path, self.terms))
        return found


Handler = Callable[[dict[str, Any], str, _Context], None]
_PATHOLOGY_SITES = frozenset({"ki67", "mitotic-count", "who-grade", "differentiation"})
"""The concepts whose facts carry a site (primary vs liver metastasis); only they look it up."""


# What a Ki-67 value's unit may say: a percentage (a note after it is kept out of the number),
# a fraction ('1') or nothing; anything else ('/2000 cells', 'HPF') is not a percentage.
_KI67_UNIT = re.compile(r"^(?:|1|(?:%|％|percent|per\s*cent|pct)(?:[^\d/]*|\s*\(.*\))?)$", re.I)


def _ki67_value(holder: dict[str, Any], path: str, ctx: _Context) -> None:
    found = ctx.quantity("ki67", holder, path)
    if found:
        q, extra = found
        if not _KI67_UNIT.match(q.unit.strip()):
            counted = cell_count_percent(holder.get("valueString") or "")
            if counted is None:
                ctx.issues.append(_unread(holder, path, "ki67", ctx.terms))
                return
            q = Quantity(counted, "%")
        elif not q.unit and 0 < q.value < 1:
            # 0.25 with no unit may be a fraction (25 %) or a percentage: never guessed.
            ctx.issues.append(
                _(
                    "{element}: Ki-67 below 1 without a unit may be a fraction or a percentage;"
                    " not used",
                    element=path + _value_element(holder),
                )
            )
            return
        q = _ki67(q)
        text = sited(_("Ki-67 {value}", value=q.display()), ctx.site)
        ctx.add("ki67", q, text, extra=extra)


def _scaled(q: Quantity, factor: float) -> Quantity:
    """A quantity (and a range's low end) times a unit conversion factor."""
    low = q.low * factor if q.low is not None else None
    return q._replace(value=q.value * factor, low=low)


def _mitoses_value(holder: dict[str, Any], path: str, ctx: _Context) -> None:
    found = ctx.quantity("mitotic-count", holder, path)
    if not found:
        return
    q, extra = found
    if _PER_HPF.search(q.unit):
        fields = _HPF_FIELDS.search(q.unit)
        if not fields or fields.group(1) != "10":
            # Only a count per 10 HPF has a site conversion; '25 per 50 HPF' is another count.
            ctx.issues.append(
                _(
                    "{element}: mitoses per {fields} HPF cannot be converted to per 2 mm²; ignored",
                    element=path + _value_element(holder),
                    fields=fields.group(1) if fields else "1",
                )
            )
            return
        factor = ctx.options.mitoses_per_10hpf_to_2mm2
        if factor is None:
            element = next(
                (k for k in ("valueQuantity", "valueRange", "valueString") if k in holder),
                "value",
            )
            ctx.issues.append(
                _(
                    "{element}: mitoses per 10 HPF need a site conversion; ignored",
                    element=path + element,
                )
            )
            return
        q = _scaled(q, factor)._replace(unit="/2 mm²")
        extra = (*extra, _("converted from per 10 HPF ×{factor:g}", factor=factor))
    elif q.unit != "/2 mm²":
        area = _PER_AREA.match(q.unit.strip())
        size = float(area.group(1) or 1) if area else 0.0
        if not size:
            # A bare count ('25') may be per 2 mm² or per 10 HPF: never assumed.
            ctx.issues.append(
                _(
                    "{element}: mitotic count without a unit per mm² or per 10 HPF; not used",
                    element=path + _value_element(holder),
                )
            )
            return
        if size != 2:
            # A count over another area ('12 per mm²'): the WHO grade counts per 2 mm².
            q = _scaled(q, 2 / size)
            extra = (*extra, _("scaled from per {area} mm²", area=f"{size:g}"))
    q = Quantity(q.value, "/2 mm²", q.comparator, None, q.low)
    text = sited(_("mitoses {value}", value=q.display()), ctx.site)
    ctx.add("mitotic-count", q, text, extra=extra)


def _grade_value(holder: dict[str, Any], path: str, ctx: _Context) -> None:
    grade = _grade(holder, path, ctx.terms)
    if grade:
        ctx.add("who-grade", grade, sited(_("reported WHO grade G{grade}", grade=grade), ctx.site))
        # WHO 2019 names a well-differentiated NEN a NET and a poorly differentiated one NEC.
        family = _grade_family(holder, path)
        if family:
            ctx.add("differentiation", family, sited(_(DIFFERENTIATED[family]), ctx.site))


def _differentiation_value(holder: dict[str, Any], path: str, ctx: _Context) -> None:
    differentiation = _differentiation(holder, path, ctx.terms)
    if differentiation:
        text = sited(_(DIFFERENTIATED[differentiation]), ctx.site)
        ctx.add("differentiation", differentiation, text)


def _lab(kind: str) -> Handler:
    def lab_value(holder: dict[str, Any], path: str, ctx: _Context) -> None:
        found = ctx.quantity(kind, holder, path)
        if found:
            q, extra = found
            ctx.add(kind, q, _titled(kind, q, ctx.terms), extra=extra)

    return lab_value


def _egfr_value(holder: dict[str, Any], path: str, ctx: _Context) -> None:
    found = ctx.quantity("egfr", holder, path)
    if found:
        q, extra = found
        ctx.add("egfr", q, _("eGFR {value:g} mL/min/1.73 m²", value=q.value), extra=extra)


def _mgmt_value(holder: dict[str, Any], path: str, ctx: _Context) -> None:
    score = _mgmt(holder, path)
    if score is not None:
        # The score is the text's last word (the summary card reads it there).
        ctx.add("mgmt", score, _("MGMT IHC {score}", score=str(score) + ("+" if score else "")))


_SSTR2_TEXT = {"positive": N_("SSTR2 IHC positive"), "negative": N_("SSTR2 IHC negative")}
_SSTR2_SCORE = N_("SSTR2 IHC {score}")


def _sstr2_value(holder: dict[str, Any], path: str, ctx: _Context) -> None:
    sstr2 = _sstr2(holder, path)
    if sstr2:
        ctx.add("sstr2-ihc", sstr2, _(_SSTR2_TEXT.get(sstr2, _SSTR2_SCORE), score=sstr2))


def _disease_status_value(holder: dict[str, Any], path: str, ctx: _Context) -> None:
    codes = _code_set(obj(holder, "valueCodeableConcept", path))
    status = next((_DISEASE_STATUS[c] for c in codes if c in _DISEASE_STATUS), None)
    if status:
        ctx.add("disease-status", status, _(_DISEASE_STATUS_TEXT[status]))
    elif codes or concept_text(obj(holder, "valueCodeableConcept", path)):
        # An unread status must not look like a record without one (it may be NED).
        element = f"{path}valueCodeableConcept"
        if codes:
            problem = _(
                "{element}: disease status {codes} not recognised; not used",
                element=element,
                codes=", ".join(sorted(codes)),
            )
        else:
            problem = _(
                "{element}: disease status text only not recognised; not used", element=element
            )
        ctx.issues.append(problem)


_DISEASE_STATUS_TEXT = {
    "progression": N_("disease status: progression"),
    "remission": N_("disease status: remission"),
    "stable": N_("disease status: stable"),
    "improved": N_("disease status: improved"),
    "undetermined": N_("disease status: undetermined"),
}

_METASTASIS_TEXT = {
    "liver-metastasis": N_("{category} (liver metastases)"),
    "extrahepatic-metastasis": N_("{category} (extrahepatic metastases)"),
}

# An M1b/M1c category says disease is outside the liver, not where (the summary lists sites).
_METASTASIS_VALUE = {"extrahepatic-metastasis": "extrahepatic site not recorded"}


def staging_fact_texts(kind: str, value: str) -> list[tuple[str, str, str]]:
    """(kind, value, text) of a TNM or stage fact and the metastasis facts an M category implies."""
    if kind == "tnm-stage":
        return [(kind, value, _("stage {stage}", stage=value))]
    found = [(kind, value, value)]
    if kind == "tnm-m":
        found += [
            (k, _METASTASIS_VALUE.get(k, value), _(_METASTASIS_TEXT[k], category=value))
            for k in metastasis_kinds(value)
        ]
    return found


def _tnm(kind: str) -> Handler:
    def tnm_value(holder: dict[str, Any], path: str, ctx: _Context) -> None:
        texts = staging_texts(holder, path, ctx.terms)
        for staging in staging_facts((kind,), texts):
            for fact_kind, value, text in staging_fact_texts(*staging):
                ctx.add(fact_kind, value, text)

    return tnm_value


def _enets_value(holder: dict[str, Any], path: str, ctx: _Context) -> None:
    enets = _enets_type(holder, path)
    if enets:
        ctx.add("enets-liver-type", enets, _("ENETS liver-metastasis type {type}", type=enets))
        ctx.add("liver-metastasis", enets, _("ENETS type {type} liver metastases", type=enets))


def _numeric(kind: str) -> Handler:
    def numeric_value(holder: dict[str, Any], path: str, ctx: _Context) -> None:
        found = ctx.quantity(kind, holder, path)
        if not found:
            return
        q, extra = found
        if kind == "primary-tumor-size" and q.unit.strip().lower() == "cm":
            q = Quantity(q.value * 10, "mm", q.comparator)  # the rules read mm
            extra = (*extra, _("converted from cm"))
        text = _("{assessment}: {value}", assessment=title(kind, ctx.terms), value=q.display())
        ctx.add(kind, q, text, extra=extra)

    return numeric_value


_YES_TEXT, _NO_TEXT = N_("{assessment}: yes"), N_("{assessment}: no")


def _yes_no(kind: str) -> Handler:
    def boolean_value(holder: dict[str, Any], path: str, ctx: _Context) -> None:
        flag = _boolean(holder, path)
        if flag is not None:
            answer = _YES_TEXT if flag else _NO_TEXT
            ctx.add(kind, flag, _(answer, assessment=title(kind, ctx.terms)))

    return boolean_value


def _score(kind: str, label: str) -> Handler:
    def score_value(holder: dict[str, Any], path: str, ctx: _Context) -> None:
        found = ctx.quantity(kind, holder, path)
        if found:
            q, extra = found
            ctx.add(kind, q, f"{label} {q.display()}", extra=extra)

    return score_value


def _msi_value(holder: dict[str, Any], path: str, ctx: _Context) -> None:
    codes, text = _coded_or_string(holder, path)
    if _MSI_HIGH in codes or text.upper().replace(" ", "") in {"MSI-H", "MSI-HIGH", "HIGH"}:
        ctx.add("msi", "MSI-H", "MSI-H")
    elif codes or text:
        shown = _("MSI: {result}", result=text) if text else _("MSI: not high")
        ctx.add("msi", text or "not MSI-H", shown)


def _never_silent(kind: str, handler: Handler) -> Handler:
    """A tissue result recognised by its code whose value gives no fact is reported as unread."""

    def reported(holder: dict[str, Any], path: str, ctx: _Context) -> None:
        facts, issues = len(ctx.facts), len(ctx.issues)
        handler(holder, path, ctx)
        if len(ctx.facts) == facts and not _absent_or_elsewhere(holder, kind, ctx.terms):
            if len(ctx.issues) == issues:
                ctx.issues.append(_unread(holder, path, kind, ctx.terms))
            # A fact too: rules must not read "no result on record" when one exists unread.
            shown = _("{test}: on record, could not be read", test=title(kind, ctx.terms))
            ctx.add("unread-result", kind, shown)

    return reported


def _absent_or_elsewhere(holder: dict[str, Any], kind: str, terms: Terminology) -> bool:
    """A value stated absent (dataAbsentReason), or a panel whose components carry it."""
    if "dataAbsentReason" in holder:
        return True
    if any(k.startswith("value") for k in holder):
        return False
    return any(
        isinstance(c, dict) and kind in terms.concepts_of(c.get("code"))
        for c in holder.get("component") or ()
    )


_HANDLERS: dict[str, Handler] = {
    "ki67": _never_silent("ki67", _ki67_value),
    "mitotic-count": _never_silent("mitotic-count", _mitoses_value),
    "who-grade": _never_silent("who-grade", _grade_value),
    "differentiation": _never_silent("differentiation", _differentiation_value),
    **{lab: _lab(lab) for lab in LABS},
    "egfr": _egfr_value,
    "mgmt-ihc": _never_silent("mgmt-ihc", _mgmt_value),
    "sstr2-ihc": _never_silent("sstr2-ihc", _sstr2_value),
    "disease-status": _disease_status_value,
    "tnm-t": _tnm("tnm-t"),
    "tnm-n": _tnm("tnm-n"),
    "tnm-m": _tnm("tnm-m"),
    "tnm-stage": _tnm("tnm-stage"),
    "enets-liver-type": _enets_value,
    **{kind: _numeric(kind) for kind in NUMERIC_ASSESSMENTS},
    **{kind: _yes_no(kind) for kind in BOOLEAN_ASSESSMENTS},
    "pdl1-cps": _score("pdl1-cps", "PD-L1 CPS"),
    "tmb": _score("tmb", "TMB"),
    "msi": _msi_value,
}
"""Observation concept → what its value becomes (one handler per concept of fhir-mapping.md)."""


def _handle(concepts: frozenset[str], holder: dict[str, Any], path: str, ctx: _Context) -> None:
    """Turn one Observation (or component) value into facts according to its code concepts."""
    for concept in concepts:
        handler = _HANDLERS.get(concept)
        if handler is not None:
            handler(holder, path, ctx)
    if "differentiation" not in concepts and "valueCodeableConcept" in holder:
        value = holder["valueCodeableConcept"]
        if "morphology-poorly-differentiated" in ctx.terms.concepts_of(value):
            text = sited(_(DIFFERENTIATED["poorly"]), ctx.site)
            ctx.add("differentiation", "poorly", text)


_FUSION, _ALTERATION = N_("{gene} fusion present"), N_("{gene} alteration present")


def _variant(observation: dict[str, Any], ctx: _Context) -> None:
    """A genetic variant assessment: gene studied (component) and presence (value)."""
    genes: set[str] = set()
    present = False
    fusion = False
    for holder, path in [
        (observation, ""),
        *((c, "component.") for c in objects(observation, "component")),
    ]:
        concept = obj(holder, "valueCodeableConcept", path)
        codes = _code_set(concept)
        if _PRESENT in codes or concept_text(concept).strip().lower() == "present":
            present = True
        for gene in GENES:
            if f"gene-{gene}" in ctx.terms.concepts_of(concept) or concept_text(concept) == gene:
                genes.add(gene)
        texts = [concept_text(concept), string(holder, "valueString", path) or ""]
        texts.append(concept_text(obj(holder, "code", path)))
        if any("fusion" in t.lower() for t in texts):
            fusion = True
    if present:
        for gene in sorted(genes):
            what = "fusion" if fusion else "alteration"
            shown = _(_FUSION if fusion else _ALTERATION, gene=gene)
            ctx.add("gene-alteration", (gene, what), shown)


_VESSEL_TEXT = {
    "none": N_("{vessel}: none"),
    "abutment": N_("{vessel}: abutment"),
    "encasement": N_("{vessel}: encasement"),
    "occlusion": N_("{vessel}: occlusion"),
}


def _vessels(observation: dict[str, Any], ctx: _Context) -> None:
    for component in objects(observation, "component"):
        vessel = next(
            (
                code
                for system, code in _codes(obj(component, "code", "component."))
                if system == PNEN
            ),
            None,
        )
        degree = _pnen_code(component, "component.")
        if vessel in VESSELS and degree in {"none", "abutment", "encasement", "occlusion"}:
            ctx.add("vessel-contact", (vessel, degree), _(_VESSEL_TEXT[degree], vessel=vessel))


_LAB_CONCEPTS = frozenset(LABS)


def _unrecognised_tissue_code(code: dict[str, Any]) -> list[str]:
    """A Ki-67 or mitotic count under a code no ValueSet lists: named so it is never lost."""
    names = all_text(code)
    if _KI67_NAME.search(names):
        return [_("Ki-67 result under an unrecognised code: add the code to a site ValueSet")]
    if _MITOSES_NAME.search(names):
        return [_("mitotic count under an unrecognised code: add the code to a site ValueSet")]
    return []


def _effective_otherwise(observation: dict[str, Any]) -> date | None:
    """Without effectiveDateTime: effectivePeriod's start, effectiveInstant, else `issued`."""
    period = obj(observation, "effectivePeriod")
    return (
        (fhir_date(period, "start", "effectivePeriod.") if period else None)
        or fhir_date(observation, "effectiveInstant")
        or fhir_date(observation, "issued")
    )


def _lab_result(
    observation: dict[str, Any],
    ref: str,
    kind: str,
    when: date | None,
    flags: tuple[str, ...],
    terms: Terminology,
) -> tuple[list[Fact], list[str]]:
    """A serum marker result: the common case of a long record, kept on a short path."""
    found = _quantity(observation, "")
    if not found:
        unread = isinstance(observation.get("valueString"), str)
        return [], [_unreadable(kind, "", terms)] if unread else []
    q, extra = found
    problem = impossible(kind, q, terms) if q.value < 0 else None
    if problem:
        return [], [problem]
    text = _titled(kind, q, terms)
    # Every field given: tuple.__new__ without NamedTuple's Python-level __new__ (as in _quantity).
    return [_new(Fact, (kind, q, when, ref, text, UNKNOWN_SITE, flags + extra))], []


def map_observation(
    observation: dict[str, Any],
    terms: Terminology,
    sites: SiteIndex,
    options: MappingOptions,
    ref: str | None = None,
) -> tuple[list[Fact], list[str]]:
    """Facts from one Observation, and problems with parts of it that were ignored.

    `ref`: the Observation's ref_of when the caller has it already.
    """
    status = observation.get("status")
    if status is None:
        return [], [_("status: missing; not used")]
    flags = () if status in COUNTED else result_status_flags(string(observation, "status"), COUNTED)
    if flags is None:
        # A code outside FHIR's (codes are case-sensitive: 'Final') is reported, not dropped.
        known = status in _OBSERVATION_STATUSES
        return [], [] if known else [_("status: not an Observation status code; not used")]
    code = observation.get("code")
    if type(code) is not dict:  # obj() only off the common shape: it reports a wrong one
        code = obj(observation, "code")
    if code is None:
        return [], [_("code: missing; not used")]
    concepts = terms.concepts_of(code)
    components: list[dict[str, Any]] = []
    component_concepts: list[frozenset[str]] = []
    if "component" in observation:  # most results have none: no comprehension to run then
        components = objects(observation, "component")
        component_concepts = [terms.concepts_of(obj(c, "code", "component.")) for c in components]
    if not concepts and not any(component_concepts):
        value_concept = obj(observation, "valueCodeableConcept")
        if "morphology-poorly-differentiated" not in terms.concepts_of(value_concept):
            return [], _unrecognised_tissue_code(code)
    # effective[x] (dateTime, Period start, instant), else `issued`.
    when = fhir_date(observation, "effectiveDateTime") or _effective_otherwise(observation)
    if not components and len(concepts) == 1 and concepts <= _LAB_CONCEPTS:
        ref = ref_of(observation) if ref is None else ref
        return _lab_result(observation, ref, next(iter(concepts)), when, flags, terms)
    graded = not concepts or not concepts.isdisjoint(_PATHOLOGY_SITES)
    graded = graded or any(not c.isdisjoint(_PATHOLOGY_SITES) for c in component_concepts)
    site = _result_site(observation, sites, terms) if graded else UNKNOWN_SITE
    ref = ref_of(observation) if ref is None else ref
    ctx = _Context(ref, when, site, flags, terms, options, [], [])
    if "variant-assessment" in concepts:
        _variant(observation, ctx)
    elif "vessel-contact" in concepts:
        _vessels(observation, ctx)
    else:
        _handle(concepts, observation, "", ctx)
        for i, (component, sub) in enumerate(zip(components, component_concepts, strict=True)):
            if sub:
                _handle(sub, component, f"component[{i}].", ctx)
    return ctx.facts, ctx.issues


OBSERVATION_CONCEPTS = (
    "ki67",
    "mitotic-count",
    "who-grade",
    "differentiation",
    *LABS,
    "egfr",
    "mgmt-ihc",
    "sstr2-ihc",
    "variant-assessment",
    "msi",
    "tmb",
    "pdl1-cps",
    "disease-status",
    "tnm-t",
    "tnm-n",
    "tnm-m",
    "tnm-stage",
    "enets-liver-type",
    *NUMERIC_ASSESSMENTS,
    *BOOLEAN_ASSESSMENTS,
    "vessel-contact",
)
"""Every Observation concept the mapping reads: the prefetch asks for exactly these codes."""
