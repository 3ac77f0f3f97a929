"""DiagnosticReport (imaging) → imaging facts; the same table classifies imaging orders.

Pathology reports never reach this module (fhir_mappings.narrative reads them). Report text is read
only where it is asserted: "correlate with Ga-68 DOTATATE PET/CT", "no evidence of …" or "compared
with the prior Octreoscan" name no study (fhir_mappings.context).
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

from fhir_mappings.context import asserted_text
from fhir_mappings.facts import BY_TEXT, Fact
from fhir_mappings.shape import (
    all_text,
    fhir_date,
    obj,
    objects,
    ref_of,
    result_status_flags,
    string,
)
from fhir_mappings.terminology import PNEN, SNOMED, Terminology
from pnen_i18n import N_, _

COUNTED = frozenset({"final", "amended", "corrected", "appended"})
IMAGING_KINDS = (
    "ct-abdomen-multiphase",
    "ct-chest",
    "mri-liver-hepatobiliary",
    "mri-liver",
    "pet-ssa",
    "pet-fdg",
    "pet-exendin",
    "pet-dopa",
    "sstr-scintigraphy",
    "abdominal-imaging",
)
_IMAGING = frozenset(IMAGING_KINDS)
IMAGING_TITLES = {
    "ct-abdomen-multiphase": "multiphasic contrast CT abdomen/pelvis",
    "ct-chest": "chest CT",
    "mri-liver-hepatobiliary": "liver MRI with hepatobiliary contrast",
    "mri-liver": "liver MRI",
    "pet-ssa": "68Ga-SSA PET/CT",
    "pet-fdg": "18F-FDG PET/CT",
    "pet-exendin": "68Ga-exendin-4 PET/CT",
    "pet-dopa": "18F-DOPA PET/CT",
    "sstr-scintigraphy": "SSTR scintigraphy (Octreoscan/SRI)",
    "abdominal-imaging": "abdominal CT/MRI",
}


class _Words:
    """A whole-word pattern with the lower-case fragments it cannot match without.

    Checking the fragments first (a substring test on the case-folded text) skips the regular
    expression for most reports: a dozen of them run per report, on every request.
    """

    def __init__(self, pattern: str, hints: tuple[str, ...]) -> None:
        self.pattern = re.compile(pattern, re.IGNORECASE)
        self.hints = hints

    def search(self, text: str, folded: str) -> bool:
        """True when the words occur in `text` (`folded` is text.casefold())."""
        return any(hint in folded for hint in self.hints) and bool(self.pattern.search(text))


def _words(*alternatives: str) -> _Words:
    joined = "|".join(alternatives)
    return _Words(rf"(?<![\w-])(?:{joined})(?![\w])", _hints(alternatives))


def _tracer(*alternatives: str) -> _Words:
    """Tracer names, also when an isotope is joined to them by a hyphen ('68Ga-exendin-4')."""
    joined = "|".join(alternatives)
    return _Words(rf"(?<!\w)(?:{joined})(?!\w)", _hints(alternatives))


def _hints(alternatives: tuple[str, ...]) -> tuple[str, ...]:
    """The literal start of each alternative, case-folded (up to its first regex character)."""
    return tuple(re.split(r"[\\\[(?*+.|]", word, maxsplit=1)[0].casefold() for word in alternatives)


# "CT-guided biopsy" and "MR-guided" name a procedure's guidance, not a diagnostic study.
_CT = _Words(r"(?<![\w-])(?:CT|computed tomography)(?![\w])(?!\s*-?\s*guided)", ("ct", "computed"))
_MR = _Words(
    r"(?<![\w-])(?:MR|MRI|magnetic resonance)(?![\w])(?!\s*-?\s*guided)", ("mr", "magnetic")
)
_PET = _words("PET", "PET/CT", "PET-CT")
_ABDOMEN = _words("abdomen", "abdominal", "abdo", "ABD")
_LIVER = _words("liver", "hepatic")
_CONTRAST = _words("contrast", "multiphase", "multiphasic", "triphasic", "enhanced")
_CHEST = _words("chest", "thorax", "thoracic")
_SSA = _tracer("DOTATATE", "DOTATOC", "DOTANOC", "68Ga-SSA", "SSTR", "somatostatin receptor")
# 68Ga-DOTATATE (NETSPOT) and 64Cu-DOTATATE (Detectnet) kits: the kit's name implies the PET.
_SSA_KIT = _tracer("NETSPOT", "Detectnet")
# SSTR scintigraphy: 111In-pentetreotide (Octreoscan), 99mTc-HYNIC-TOC (Tektrotyd), or SRS/SRI by
# name. It shows SSTR status but is not the 68Ga-SSA PET the consensus asks for.
_SCINTIGRAPHY_TRACER = _tracer(
    "Octreoscan", "pentetreotide", "HYNIC-TOC", "HYNIC-TATE", "Tektrotyd", "octreotide scan"
)
_SCINTIGRAPHY = _words(
    "scintigraphy", "scintigram", "SPECT", "SPECT/CT", "SRS", "SRI", "gamma camera", "imaging"
)
_SSTR_IMAGING = _words("somatostatin receptor", "SSTR", "octreotide")
# Chinese: octreotide imaging, somatostatin receptor imaging/scintigraphy; single phase, portal
# venous (venous, arterial, delayed) phase only.
_SCINTIGRAPHY_ZH = re.compile("奥曲肽显像|生长抑素受体显像|生长抑素受体闪烁")
_SINGLE_PHASE_ZH = re.compile("单期|单相|仅(?:门静脉|门脉|静脉|动脉|延迟)期")
_SINGLE_PHASE = _words(
    "single[- ]phase",
    "single-phase",
    "monophasic",
    "portal[- ]venous phase only",
    "venous phase only",
    "portal phase only",
    "delayed phase only",
    "arterial phase only",
)
# A bare gallium-68 PET is an SSTR PET unless another gallium tracer is named (exendin-4, PSMA).
_GALLIUM = _words("Ga-68", "68Ga", "gallium-68")
_OTHER_GALLIUM = _tracer("exendin", "PSMA", "FAPI")
_FDG = _tracer("FDG", "fluorodeoxyglucose")
_EXENDIN = _tracer("exendin")
_GLP1R = _words("GLP-1R", "GLP-1 receptor")
_DOPA = _tracer("DOPA", "FDOPA", "fluorodopa")
# Chinese study titles ("上腹部增强CT（三期）", "68Ga-DOTATATE 正电子发射计算机断层显像"): CJK has
# no word boundaries, so these match as substrings, in a non-ASCII title only (a conclusion's
# "胸腔积液" must not make an abdominal CT a chest CT). CT or MR written next to Chinese characters
# but not the CT of "PET/CT"; 计算机断层 (computed tomography) but not inside 正电子发射计算机断层
# (PET/CT); contrast-enhanced (增强), multiphasic (多期, 三期 triphasic, 双期, 动态).
_CT_ZH = re.compile(r"(?<![A-Za-z/-])CT(?![A-Za-z])|(?<!发射)计算机(?:断层|体层)")
_MR_ZH = re.compile(r"(?<![A-Za-z/-])MRI?(?![A-Za-z])|磁共振")
_PET_ZH = re.compile(r"(?<![A-Za-z])PET(?![A-Za-z])|正电子发射")
_CONTRAST_ZH = re.compile("增强|多期|三期|双期|动态")
_HEPATOBILIARY_ZH = re.compile("普美显|钆塞酸|肝胆特异")
_SSTR_ZH = re.compile("生长抑素受体")
_FDG_ZH = re.compile("氟代脱氧葡萄糖")
PET_KINDS = frozenset({"pet-ssa", "pet-fdg", "pet-exendin", "pet-dopa"})
_NUCLEAR_KINDS = PET_KINDS | {"sstr-scintigraphy"}

_POSITIVE = {(SNOMED, "10828004"), (PNEN, "avid")}
_NEGATIVE = {(SNOMED, "260385009"), (PNEN, "non-avid")}
_PROGRESSION = {(PNEN, "PD")}


def _text_kinds(text: str, terms: Terminology) -> set[str]:
    kinds: set[str] = set()
    folded = text.casefold()
    ct, mr = _CT.search(text, folded), _MR.search(text, folded)
    abdomen, liver = _ABDOMEN.search(text, folded), _LIVER.search(text, folded)
    if ct and abdomen and _CONTRAST.search(text, folded):
        kinds.add("ct-abdomen-multiphase")
    if ct and _CHEST.search(text, folded):
        kinds.add("ct-chest")
    if mr and liver:
        kinds.add("mri-liver")
        if terms.text_matches("mri-liver-hepatobiliary", text):
            kinds.add("mri-liver-hepatobiliary")
    if (ct or mr) and (abdomen or liver):
        kinds.add("abdominal-imaging")
    return kinds


def _chinese_title_kinds(title: str) -> set[str]:
    """CT and MRI kinds of a Chinese study title (腹 abdomen, 肝 liver, 胸 chest)."""
    kinds: set[str] = set()
    ct, mr = _CT_ZH.search(title), _MR_ZH.search(title)
    abdomen, liver = "腹" in title, "肝" in title
    if ct and abdomen and _CONTRAST_ZH.search(title):
        kinds.add("ct-abdomen-multiphase")
    if ct and "胸" in title:
        kinds.add("ct-chest")
    if mr and liver:
        kinds.add("mri-liver")
        if _HEPATOBILIARY_ZH.search(title):
            kinds.add("mri-liver-hepatobiliary")
    if (ct or mr) and (abdomen or liver):
        kinds.add("abdominal-imaging")
    return kinds


def _pet_kinds(text: str, pet: bool) -> set[str]:
    """PET tracers named in a text (exendin-4 also without the word PET)."""
    kinds: set[str] = set()
    folded = text.casefold()
    chinese = not text.isascii()
    gallium = _GALLIUM.search(text, folded) and not _OTHER_GALLIUM.search(text, folded)
    sstr_zh = chinese and _SSTR_ZH.search(text)
    if (pet and (_SSA.search(text, folded) or gallium or sstr_zh)) or _SSA_KIT.search(text, folded):
        kinds.add("pet-ssa")
    if pet and (_FDG.search(text, folded) or (chinese and _FDG_ZH.search(text))):
        kinds.add("pet-fdg")
    if _EXENDIN.search(text, folded) or (pet and _GLP1R.search(text, folded)):
        kinds.add("pet-exendin")
    if pet and _DOPA.search(text, folded):
        kinds.add("pet-dopa")
    if not kinds and _is_scintigraphy(text, folded):
        kinds.add("sstr-scintigraphy")
    return kinds


def _is_scintigraphy(text: str, folded: str) -> bool:
    """Octreoscan and its kin by name, or SSTR/octreotide imaging without PET."""
    if _SCINTIGRAPHY_TRACER.search(text, folded):
        return True
    if not text.isascii() and _SCINTIGRAPHY_ZH.search(text):
        return True
    return _SSTR_IMAGING.search(text, folded) and _SCINTIGRAPHY.search(text, folded)


def classify_imaging(
    code: dict[str, Any] | None, extra_text: str, terms: Terminology, use_text: bool = True
) -> dict[str, bool]:
    """Imaging kinds of a study → whether each was recognised by text only."""
    concepts = terms.concepts_of(code)
    coded = concepts & _IMAGING
    code_text = all_text(code)
    if extra_text:
        return _classify(terms, coded, code_text, extra_text, use_text)
    # Without report text the answer depends only on the code, which recurs across records.
    return dict(_classify_code(terms, coded, code_text, use_text))


@lru_cache(maxsize=4096)
def _classify_code(
    terms: Terminology, coded: frozenset[str], code_text: str, use_text: bool
) -> tuple[tuple[str, bool], ...]:
    """classify_imaging for a study described by its code alone (terminology text, no PHI)."""
    return tuple(_classify(terms, coded, code_text, "", use_text).items())


def _classify(
    terms: Terminology, coded: frozenset[str], code_text: str, extra_text: str, use_text: bool
) -> dict[str, bool]:
    # Advisory, negated and comparison phrases of the conclusion name no study.
    extra_text = asserted_text(extra_text) if extra_text else ""
    text = " | ".join(t for t in (code_text, extra_text) if t)
    by_text: set[str] = set()
    if use_text and text:
        by_text = _text_kinds(text, terms)
        chinese_title = bool(code_text) and not code_text.isascii()
        if chinese_title:
            by_text |= _chinese_title_kinds(code_text)
        if not coded & _NUCLEAR_KINDS:
            # The tracer comes from the code when it names one: conclusions often compare with
            # studies of other tracers ("SSTR-negative", "unlike the prior DOTATATE PET").
            pet = _PET.search(text, text.casefold()) or (
                chinese_title and bool(_PET_ZH.search(code_text))
            )
            by_text |= _pet_kinds(code_text, pet) or _pet_kinds(text, pet)
        by_text -= coded
    agent = "mri-liver-hepatobiliary"
    if "mri-liver" in coded and agent not in coded and terms.text_matches(agent, text):
        by_text.add(agent)  # a coded liver MRI whose agent is named in text only: flagged
    kinds = {kind: False for kind in coded} | {kind: True for kind in by_text}
    multiphase = "ct-abdomen-multiphase"
    if multiphase in kinds and text and _single_phase(text):
        # A contrast CT whose report says single-phase is abdominal imaging, not the staging study.
        kinds.setdefault("abdominal-imaging", kinds.pop(multiphase))
    if kinds and "abdominal-imaging" not in kinds and set(kinds) - _NOT_ABDOMINAL:
        kinds["abdominal-imaging"] = all(kinds.values())
    return kinds


def _single_phase(text: str) -> bool:
    """The report says the CT was single-phase (English, or Chinese 单期 / 仅门静脉期)."""
    if _SINGLE_PHASE.search(text, text.casefold()):
        return True
    return not text.isascii() and bool(_SINGLE_PHASE_ZH.search(text))


# Kinds that do not count as abdominal CT/MRI for follow-up.
_NOT_ABDOMINAL = frozenset({"ct-chest", "sstr-scintigraphy"})


def _result(report: dict[str, Any]) -> str | None:
    pairs: set[tuple[str, str]] = set()
    for concept in objects(report, "conclusionCode"):
        for coding in objects(concept, "coding", "conclusionCode."):
            pairs.add((str(coding.get("system")), str(coding.get("code"))))
    if pairs & _PROGRESSION:
        return "progression"
    if pairs & _POSITIVE:
        return "positive"
    if pairs & _NEGATIVE:
        return "negative"
    return None


_RESULT_TEXT = {
    "positive": N_("{study}: positive (disease present)"),
    "negative": N_("{study}: negative"),
    "progression": N_("{study}: progressive disease (RECIST PD)"),
    None: N_("{study}: performed, result not coded"),
}


def map_report(
    report: dict[str, Any], terms: Terminology, use_text: bool = True, *, ref: str | None = None
) -> list[Fact]:
    """Imaging facts from one DiagnosticReport (one fact per imaging kind it is).

    `ref`: the report's ref_of when the caller has it already.
    """
    flags = result_status_flags(string(report, "status"), COUNTED)
    if flags is None:
        return []
    code = obj(report, "code")
    kinds = classify_imaging(code, string(report, "conclusion") or "", terms, use_text)
    if not kinds:
        return []
    period = obj(report, "effectivePeriod")
    when = (
        fhir_date(report, "effectiveDateTime")
        or (fhir_date(period, "start", "effectivePeriod.") if period else None)
        or fhir_date(report, "issued")
    )
    result = _result(report)
    ref = ref_of(report) if ref is None else ref
    name = terms.readable(code) or _("imaging study")
    # "Tracer-avid" describes nuclear imaging only; a positive CT or MRI shows disease.
    nuclear = result == "positive" and not _NUCLEAR_KINDS.isdisjoint(kinds)
    reading = N_("{study}: positive (tracer-avid)") if nuclear else _RESULT_TEXT[result]
    text = _(reading, study=name)
    facts = [
        Fact(
            f"imaging:{kind}",
            result,
            when,
            ref,
            text,
            flags=flags + ((BY_TEXT,) if by_text else ()),
        )
        for kind, by_text in sorted(kinds.items())
    ]
    if result == "progression":
        facts.append(
            Fact(
                "disease-status",
                "progression",
                when,
                ref,
                _("{study}: progressive disease", study=name),
                flags=flags,
            )
        )
    return facts
