"""Everything loaded once at start-up: terminology, rules, local defaults, card options."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from cards import CardOptions
from consensus.registry import Rule
from consensus.rules import all_rules
from consensus.settings import Settings
from fhir_mappings.observations import MappingOptions
from fhir_mappings.record import RecordMapper
from fhir_mappings.terminology import Terminology, load_terminology


@dataclass(frozen=True)
class Knowledge:
    """The service's knowledge, validated at start-up (fail fast) and shared by every request."""

    terms: Terminology
    mapper: RecordMapper
    settings: Settings
    rules: tuple[Rule, ...]
    cards: CardOptions


def load_knowledge(
    valuesets_dir: str | None = None,
    local_defaults: Mapping[str, float] | None = None,
    cards: CardOptions | None = None,
    mapping: MappingOptions | None = None,
) -> Knowledge:
    """Load terminology (shipped + site folder), rules and settings; raise on any error."""
    terms = load_terminology(valuesets_dir)
    rules = all_rules()
    if not rules:
        raise RuntimeError("no consensus rules registered")
    return Knowledge(
        terms=terms,
        mapper=RecordMapper(terms, mapping or MappingOptions()),
        settings=Settings(dict(local_defaults or {})),
        rules=rules,
        cards=cards or CardOptions(),
    )
