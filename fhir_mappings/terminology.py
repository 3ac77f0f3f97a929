"""Terminology: the concepts of fhir-mapping.md as FHIR ValueSets, shipped and site-extended."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

SNOMED = "http://snomed.info/sct"
LOINC = "http://loinc.org"
ICD10CM = "http://hl7.org/fhir/sid/icd-10-cm"
ICDO3 = "http://terminology.hl7.org/CodeSystem/icd-o-3"
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
ATC = "http://www.whocc.no/atc"
UCUM = "http://unitsofmeasure.org"
PNEN = "http://pnen-cds.org/fhir/CodeSystem/pnen-lm"
RULE_SYSTEM = "http://pnen-cds.org/fhir/CodeSystem/pnen-rule"
VALUESET_BASE = "http://pnen-cds.org/fhir/ValueSet/"
HGNC_SYSTEM = "http://www.genenames.org/geneId"
TEXT_MATCH_EXTENSION = "http://pnen-cds.org/fhir/StructureDefinition/text-match"

# ICD-10-CM and ATC codes match by prefix (K29.3 matches K29.30); so do ICD-O-3 topographies (C25).
PREFIX_SYSTEMS = frozenset({ICD10CM, ATC, ICDO3})


_NONE: frozenset[str] = frozenset()


class TerminologyError(ValueError):
    """A ValueSet file could not be read; raised at start-up (fail fast)."""


@dataclass(frozen=True, eq=False)
class Terminology:
    """Code → concept index built from ValueSets, with the text words of each concept.

    Compared and hashed by identity: one is loaded per process, and derived lookups may be
    memoised per terminology.
    """

    concepts: Mapping[str, frozenset[tuple[str, str]]]
    words: Mapping[str, tuple[str, ...]]
    titles: Mapping[str, str]
    _index: dict[tuple[str, str], frozenset[str]] = field(default_factory=dict, repr=False)
    _word_patterns: dict[str, re.Pattern[str]] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        index: dict[tuple[str, str], set[str]] = {}
        for concept, codes in self.concepts.items():
            for key in codes:
                index.setdefault(key, set()).add(concept)
        self._index.update({key: frozenset(names) for key, names in index.items()})
        for concept, words in self.words.items():
            if words:
                alternatives = "|".join(re.escape(word) for word in sorted(words, key=len)[::-1])
                self._word_patterns[concept] = re.compile(
                    rf"(?<![\w-])(?:{alternatives})(?![\w-])", re.IGNORECASE
                )

    def code_concepts(self, system: str, code: str) -> frozenset[str]:
        """Concepts that contain this system+code (prefix match where the system allows it)."""
        found = self._index.get((system, code), frozenset())
        if system in PREFIX_SYSTEMS:
            for end in range(len(code) - 1, 0, -1):
                more = self._index.get((system, code[:end]))
                if more:
                    found = found | more
        return found

    def concepts_of(self, codeable: Any) -> frozenset[str]:
        """Concepts matched by any coding of a CodeableConcept (a JSON dict); empty if none."""
        if not isinstance(codeable, dict):
            return _NONE
        codings = codeable.get("coding")
        if not isinstance(codings, list):
            return _NONE
        found = _NONE
        for coding in codings:
            if isinstance(coding, dict):
                system, code = coding.get("system"), coding.get("code")
                if isinstance(system, str) and isinstance(code, str):
                    more = self.code_concepts(system, code)
                    if more:
                        found = found | more if found else more
        return found

    def is_a(self, codeable: Any, concept: str) -> bool:
        """True when the CodeableConcept has a coding in the concept's ValueSet."""
        return concept in self.concepts_of(codeable)

    def text_matches(self, concept: str, text: str) -> bool:
        """Whole-word, case-insensitive match of any of the concept's text words."""
        pattern = self._word_patterns.get(concept)
        return bool(pattern and pattern.search(text))

    def codes(self, concepts: Iterable[str]) -> list[tuple[str, str]]:
        """The system+code pairs of the given concepts, sorted, without repeats."""
        pairs: set[tuple[str, str]] = set()
        for concept in concepts:
            pairs |= self.concepts.get(concept, frozenset())
        return sorted(pairs)


def _read_valueset(data: Any, origin: str) -> tuple[str, set[tuple[str, str]], list[str], str]:
    if not isinstance(data, dict) or data.get("resourceType") != "ValueSet":
        raise TerminologyError(f"{origin}: not a ValueSet resource")
    url = data.get("url")
    name = data.get("id")
    if isinstance(url, str) and url.startswith(VALUESET_BASE):
        name = url[len(VALUESET_BASE) :]
    if not isinstance(name, str) or not name:
        raise TerminologyError(f"{origin}: ValueSet needs an id or a {VALUESET_BASE}<name> url")
    codes: set[tuple[str, str]] = set()
    includes = (data.get("compose") or {}).get("include", [])
    if not isinstance(includes, list):
        raise TerminologyError(f"{origin}: compose.include: expected a list")
    for i, include in enumerate(includes):
        system = include.get("system") if isinstance(include, dict) else None
        if not isinstance(system, str):
            raise TerminologyError(f"{origin}: compose.include[{i}].system: expected a string")
        for j, concept in enumerate(include.get("concept", [])):
            code = concept.get("code") if isinstance(concept, dict) else None
            if not isinstance(code, str) or not code:
                raise TerminologyError(
                    f"{origin}: compose.include[{i}].concept[{j}].code: expected a string"
                )
            codes.add((system, code))
    words = [
        ext["valueString"]
        for ext in data.get("extension", [])
        if isinstance(ext, dict)
        and ext.get("url") == TEXT_MATCH_EXTENSION
        and isinstance(ext.get("valueString"), str)
    ]
    title = data.get("title") if isinstance(data.get("title"), str) else name
    return name, codes, words, str(title)


def load_terminology(site_dir: str | Path | None = None) -> Terminology:
    """Load the shipped ValueSets, then union in a site's folder of extra ValueSet files."""
    concepts: dict[str, set[tuple[str, str]]] = {}
    words: dict[str, list[str]] = {}
    titles: dict[str, str] = {}

    def add(data: Any, origin: str) -> None:
        name, codes, more_words, title = _read_valueset(data, origin)
        concepts.setdefault(name, set()).update(codes)
        words.setdefault(name, []).extend(w for w in more_words if w not in words.get(name, []))
        titles.setdefault(name, title)

    shipped = resources.files("fhir_mappings") / "valuesets"
    for entry in sorted(shipped.iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".json"):
            add(json.loads(entry.read_text(encoding="utf-8")), f"valuesets/{entry.name}")
    if site_dir:
        folder = Path(site_dir)
        if not folder.is_dir():
            raise TerminologyError(f"{folder}: site ValueSet folder does not exist")
        for path in sorted(folder.glob("*.json")):
            try:
                data = json.loads(path.read_text(encoding="utf-8"))
            except json.JSONDecodeError as exc:
                raise TerminologyError(f"{path}: invalid JSON ({exc.msg})") from exc
            add(data, str(path))
    return Terminology(
        concepts={k: frozenset(v) for k, v in concepts.items()},
        words={k: tuple(v) for k, v in words.items()},
        titles=titles,
    )
