"""Terminology: the concepts of fhir-mapping.md as FHIR ValueSets, shipped and site-extended."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from pnen_i18n import canonical, current_locale

SNOMED = "http://snomed.info/sct"
LOINC = "http://loinc.org"
ICD10CM = "http://hl7.org/fhir/sid/icd-10-cm"
ICDO3 = "http://terminology.hl7.org/CodeSystem/icd-o-3"
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
ATC = "http://www.whocc.no/atc"
ICD10PCS = "http://www.cms.gov/Medicare/Coding/ICD10"
UCUM = "http://unitsofmeasure.org"
PNEN = "http://pnen-cds.org/fhir/CodeSystem/pnen-lm"
RULE_SYSTEM = "http://pnen-cds.org/fhir/CodeSystem/pnen-rule"
VALUESET_BASE = "http://pnen-cds.org/fhir/ValueSet/"
HGNC_SYSTEM = "http://www.genenames.org/geneId"
NCIT = "http://ncicb.nci.nih.gov/xml/owl/EVS/Thesaurus.owl"
TEXT_MATCH_EXTENSION = "http://pnen-cds.org/fhir/StructureDefinition/text-match"

# ICD-10-CM and ATC codes match by prefix (K29.3 matches K29.30); so do ICD-O-3 topographies (C25).
PREFIX_SYSTEMS = frozenset({ICD10CM, ATC, ICDO3})


_NONE: frozenset[str] = frozenset()
# Code systems whose codes are all upper case: a code that misses is tried in capitals.
_UPPER_CASE_SYSTEMS = frozenset({ATC, ICD10PCS})
_PREFIXED_MAX = 4096


def normal_code(system: str, code: str) -> str:
    """The ValueSet form of a code sent in another notation ('82403' → '8240/3', 'C7A1' → 'C7A.1').

    Only the systems whose codes arrive in several notations are touched; everything else is
    returned as is (a dictionary look-up decides, so the hot path stays cheap).
    """
    form = _NOTATIONS.get(system)
    return form(code) if form else code


def _icdo3(code: str) -> str:
    # Morphology '82403' is '8240/3'; topography 'C250' (or 'c25.0') is 'C25.0'.
    if len(code) == 5 and code.isdigit():
        return f"{code[:4]}/{code[4]}"
    if len(code) == 4 and code[0] in "Cc" and code[1:].isdigit():
        return f"C{code[1:3]}.{code[3]}"
    return code.upper() if code[:1] == "c" else code


def _icd10cm(code: str) -> str:
    # ICD-10-CM without its dot ('C7A1', 'C787') or in lower case ('c25.4') as some systems send
    # it: the classification's codes are upper case, and no two differ by case only.
    if len(code) > 3 and "." not in code:
        return f"{code[:3].upper()}.{code[3:].upper()}"
    return code if code.isupper() else code.upper()


def _hgnc(code: str) -> str:
    # mCODE examples send the bare HGNC number ('1101') as well as 'HGNC:1101'.
    return f"HGNC:{code}" if code.isdigit() else code


_NOTATIONS: dict[str, Callable[[str], str]] = {
    ICDO3: _icdo3,
    ICD10CM: _icd10cm,
    HGNC_SYSTEM: _hgnc,
}


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
    aliases: Mapping[str, str] = field(default_factory=dict)
    """Other URIs and OIDs of a code system → the URI the ValueSets use (NamingSystem files)."""
    displays: Mapping[tuple[str, str], str] = field(default_factory=dict)
    """The display each ValueSet gives a code (value tables such as AJCC TNM categories)."""
    designations: Mapping[tuple[str, str], Mapping[str, str]] = field(default_factory=dict)
    """A code's display in other languages (concept.designation with a `language`), by locale."""
    _index: dict[tuple[str, str], frozenset[str]] = field(default_factory=dict, repr=False)
    _word_patterns: dict[str, re.Pattern[str]] = field(default_factory=dict, repr=False)
    _rewrites: dict[str, tuple[str, Callable[[str], str] | None]] = field(
        default_factory=dict, repr=False
    )
    _prefixed: dict[tuple[str, str], frozenset[str]] = field(default_factory=dict, repr=False)
    """Memoised prefix matches (codes only, bounded by `_PREFIXED_MAX`): a record repeats them."""

    def __post_init__(self) -> None:
        index: dict[tuple[str, str], set[str]] = {}
        for concept, codes in self.concepts.items():
            for key in codes:
                index.setdefault(key, set()).add(concept)
        self._index.update({key: frozenset(names) for key, names in index.items()})
        # One look-up per coding on the hot path: only systems that need a rewrite are listed.
        for system in {*self.aliases, *_NOTATIONS}:
            target = self.aliases.get(system, system)
            self._rewrites[system] = (target, _NOTATIONS.get(target))
        for concept, words in self.words.items():
            if words:
                alternatives = "|".join(re.escape(word) for word in sorted(words, key=len)[::-1])
                self._word_patterns[concept] = re.compile(
                    rf"(?<![\w-])(?:{alternatives})(?![\w-])", re.IGNORECASE
                )

    def code_concepts(self, system: str, code: str) -> frozenset[str]:
        """Concepts that contain this system+code (prefix match where the system allows it)."""
        if system in PREFIX_SYSTEMS:
            return self._prefix_concepts(system, code)
        return self._index.get((system, code), _NONE)

    def _prefix_concepts(self, system: str, code: str) -> frozenset[str]:
        key = (system, code)
        found = self._prefixed.get(key)
        if found is not None:
            return found
        found = self._index.get(key, _NONE)
        for end in range(len(code) - 1, 0, -1):
            more = self._index.get((system, code[:end]))
            if more:
                found = found | more
        if len(self._prefixed) < _PREFIXED_MAX:  # a bound: codes come from requests
            self._prefixed[key] = found
        return found

    def canonical(self, system: str, code: str) -> tuple[str, str]:
        """The system URI and code notation the ValueSets use for a coding as sent."""
        system = self.aliases.get(system, system)
        return system, normal_code(system, code)

    def display(self, system: str, code: str, *, translated: bool = True) -> str | None:
        """The display a ValueSet gives this code (after alias and notation), or None.

        In the request's language when the ValueSet designates one (FHIR concept.designation),
        unless `translated` is False: values the rules read stay the same in every language.
        """
        key = self.canonical(system, code)
        designated = self.designations.get(key) if translated else None
        if designated:
            text = designated.get(current_locale())
            if text:
                return text
        return self.displays.get(key)

    def readable(self, codeable: Any, *, translated: bool = True) -> str:
        """A code's name for people: its text or display, else the ValueSet's display or title.

        A ValueSet display is in the request's language unless `translated` is False.
        """
        if not isinstance(codeable, dict):
            return ""
        text = codeable.get("text")
        if isinstance(text, str) and text:
            return text
        codings = [c for c in codeable.get("coding") or [] if isinstance(c, dict)]
        for coding in codings:
            if isinstance(coding.get("display"), str) and coding["display"]:
                return str(coding["display"])
        for coding in codings:
            system, code = coding.get("system"), coding.get("code")
            if isinstance(system, str) and isinstance(code, str):
                display = self.display(system, code, translated=translated)
                if display:
                    return display
        # A site's own code: the title of the one concept it belongs to says what it is.
        titles = {self.titles[c] for c in self.concepts_of(codeable) if c in self.titles}
        if len(titles) == 1:
            return titles.pop()
        for coding in codings:
            if isinstance(coding.get("code"), str) and coding["code"]:
                return str(coding["code"])
        return ""

    def concepts_of(self, codeable: Any) -> frozenset[str]:
        """Concepts matched by any coding of a CodeableConcept (a JSON dict); empty if none."""
        if not isinstance(codeable, dict):
            return _NONE
        codings = codeable.get("coding")
        if not isinstance(codings, list):
            if not isinstance(codings, dict):
                return _NONE
            codings = [codings]  # one Coding sent as an object, not an array: no doubt what it is
        found = _NONE
        for coding in codings:
            if isinstance(coding, dict):
                system, code = coding.get("system"), coding.get("code")
                if isinstance(system, str) and isinstance(code, str):
                    rewrite = self._rewrites.get(system)
                    if rewrite is not None:  # another URI or OID, or another notation
                        system, form = rewrite
                        code = form(code) if form else code
                    # The common case (one exact code) without a method call per coding.
                    more = (
                        self._prefix_concepts(system, code)
                        if system in PREFIX_SYSTEMS
                        else self._index.get((system, code), _NONE)
                    )
                    if more:
                        found = found | more if found else more
                    else:  # only on a miss: the coding may be untidy ('29593-1 ', 'HTTP://…')
                        more = self._untidy_concepts(coding["system"], coding["code"])
                        if more:
                            found = found | more if found else more
        return found

    def _untidy_concepts(self, system: str, code: str) -> frozenset[str]:
        """Concepts of a coding sent untidy, read as FHIR means it; empty when it is tidy.

        A code never has surrounding whitespace (the FHIR `code` type); a URI's scheme and host
        are case-insensitive (RFC 3986 6.2.2.1): 'HTTP://LOINC.ORG' is http://loinc.org; ATC and
        ICD-10-PCS codes are upper case ('l01xa02' is L01XA02).
        """
        tidy_code = code.strip()
        upper = system in _UPPER_CASE_SYSTEMS
        # The common miss is already tidy: strip() returned the same string, and the URI's
        # scheme and host (up to the first '/' after 'scheme://') are in lower case.
        if tidy_code is code and not upper and system[: system.find("/", 8)].islower():
            return _NONE
        scheme, sep, rest = system.strip().partition("://")
        if sep:
            host, slash, path = rest.partition("/")
            tidy_system = f"{scheme.lower()}://{host.lower()}{slash}{path}"
        else:
            tidy_system = scheme
        if upper or tidy_system in _UPPER_CASE_SYSTEMS:
            tidy_code = tidy_code.upper()
        if (tidy_system, tidy_code) == (system, code) or not tidy_code:
            return _NONE
        return self.concepts_of({"coding": [{"system": tidy_system, "code": tidy_code}]})

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


_ValueSet = tuple[
    str,
    set[tuple[str, str]],
    list[str],
    str,
    dict[tuple[str, str], str],
    dict[tuple[str, str], dict[str, str]],
]


def _read_valueset(data: Any, origin: str) -> _ValueSet:
    if not isinstance(data, dict) or data.get("resourceType") != "ValueSet":
        raise TerminologyError(f"{origin}: not a ValueSet resource")
    url = data.get("url")
    name = data.get("id")
    if isinstance(url, str) and url.startswith(VALUESET_BASE):
        name = url[len(VALUESET_BASE) :]
    if not isinstance(name, str) or not name:
        raise TerminologyError(f"{origin}: ValueSet needs an id or a {VALUESET_BASE}<name> url")
    codes: set[tuple[str, str]] = set()
    displays: dict[tuple[str, str], str] = {}
    designations: dict[tuple[str, str], dict[str, str]] = {}
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
            if isinstance(concept.get("display"), str):
                displays[(system, code)] = concept["display"]
            for designation in concept.get("designation") or []:
                if not isinstance(designation, dict):
                    continue
                language, value = designation.get("language"), designation.get("value")
                locale = canonical(language) if isinstance(language, str) else None
                if locale and isinstance(value, str) and value:
                    designations.setdefault((system, code), {})[locale] = value
    words = [
        ext["valueString"]
        for ext in data.get("extension", [])
        if isinstance(ext, dict)
        and ext.get("url") == TEXT_MATCH_EXTENSION
        and isinstance(ext.get("valueString"), str)
    ]
    title = data.get("title") if isinstance(data.get("title"), str) else name
    return name, codes, words, str(title), displays, designations


def _read_naming_system(data: dict[str, Any], origin: str) -> dict[str, str]:
    """A NamingSystem's other identifiers (URIs, OIDs as urn:oid:) → its preferred URI."""
    ids = data.get("uniqueId")
    if not isinstance(ids, list) or not all(isinstance(i, dict) for i in ids):
        raise TerminologyError(f"{origin}: uniqueId: expected a list of objects")
    uris = [i for i in ids if i.get("type") == "uri" and isinstance(i.get("value"), str)]
    preferred = next((i["value"] for i in uris if i.get("preferred") is True), None)
    if preferred is None:
        raise TerminologyError(f"{origin}: NamingSystem needs a preferred uri uniqueId")
    aliases: dict[str, str] = {}
    for item in ids:
        value = item.get("value")
        if not isinstance(value, str) or value == preferred:
            continue
        if item.get("type") == "oid":
            value = value if value.startswith("urn:oid:") else f"urn:oid:{value}"
        aliases[value] = preferred
    return aliases


def load_terminology(site_dir: str | Path | None = None) -> Terminology:
    """Load the shipped ValueSets and NamingSystems, then union in a site's folder of extra ones."""
    concepts: dict[str, set[tuple[str, str]]] = {}
    words: dict[str, list[str]] = {}
    titles: dict[str, str] = {}
    aliases: dict[str, str] = {}
    displays: dict[tuple[str, str], str] = {}
    designations: dict[tuple[str, str], dict[str, str]] = {}

    def add(data: Any, origin: str) -> None:
        if isinstance(data, dict) and data.get("resourceType") == "NamingSystem":
            aliases.update(_read_naming_system(data, origin))
            return
        name, codes, more_words, title, more_displays, more_designations = _read_valueset(
            data, origin
        )
        concepts.setdefault(name, set()).update(codes)
        for key, display in more_displays.items():
            displays.setdefault(key, display)
        for key, by_locale in more_designations.items():
            for locale, value in by_locale.items():
                designations.setdefault(key, {}).setdefault(locale, value)
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
        aliases=aliases,
        displays=displays,
        designations=designations,
    )
