"""Recommendations → CDS Hooks 2.0 cards (no empty values; full Codings; deterministic order)."""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from types import MappingProxyType
from typing import Any

from cards.orders import order_resource
from cards.text import review_section, status_text, wording
from consensus.criteria import Criterion
from consensus.recommendation import Action, Indicator, Recommendation, Suggestion
from pnen_i18n import COMMA, _, current_locale, joined

RULE_SYSTEM = "http://pnen-cds.org/fhir/CodeSystem/pnen-rule"
OVERRIDE_SYSTEM = "http://pnen-cds.org/fhir/CodeSystem/override-reason"
OVERRIDE_REASONS = (
    ("patient-declined", "override_declined"),
    ("discussed-at-mdt", "override_mdt"),
    ("not-applicable", "override_not_applicable"),
    ("data-incorrect", "override_data"),
)
MAX_SUMMARY = 139


@dataclass(frozen=True)
class CardOptions:
    """Deployment choices that shape cards: links (the locale is the request's, `pnen_i18n`)."""

    rule_url_base: str | None = None
    smart_app_url: str | None = None


def _new_id() -> str:
    """A random (version 4) UUID as text: what `str(uuid.uuid4())` gives, without building a
    UUID object (cards and suggestions take about ten per response)."""
    raw = bytearray(os.urandom(16))
    raw[6] = (raw[6] & 0x0F) | 0x40  # version 4
    raw[8] = (raw[8] & 0x3F) | 0x80  # RFC 4122 variant
    h = raw.hex()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


@lru_cache(maxsize=512)
def _cited(citation: str) -> Mapping[str, tuple[str, ...]]:
    """'C 1.4; C 3; R PRRT' → {'C': ('1.4', '3'), 'R': ('PRRT',), '': ()} (read-only, memoised:
    a rule's citation is parsed once, not for every card)."""
    groups: dict[str, list[str]] = {"C": [], "R": [], "": []}
    for part in (p.strip() for p in citation.split(";")):
        prefix = part[:2] if part[:2] in ("C ", "R ") else ""
        if part:
            groups[prefix.strip()].append(part[len(prefix) :])
    return MappingProxyType({key: tuple(items) for key, items in groups.items()})


def _counted(words: tuple[str, str], items: Sequence[str], text: Mapping[str, str]) -> str:
    """'question 2' or 'questions 1.4, 3': the noun agrees with the number of items."""
    noun = text[words[0]] if len(items) == 1 else text[words[1]]
    return f"{noun} {joined(items, COMMA)}"


def citation_text(citation: str, text: Mapping[str, str]) -> str:
    """'C 1.4; C 3; R PRRT' → the consensus questions, then the review sections, each named once.

    Review paragraph headings are named with their section ("Serum biomarkers — Chromogranin A");
    tables are named as such ("Table 4").
    """
    groups = _cited(citation)
    out = []
    if groups["C"]:
        places = _counted(("question", "questions"), groups["C"], text)
        out.append(_("{document}, {places}", document=text["source_C"], places=places))
    if groups["R"]:
        tables = [
            _("Table {number}", number=r.removeprefix("Table "))
            for r in groups["R"]
            if r.startswith("Table ")
        ]
        sections = [review_section(r) for r in groups["R"] if not r.startswith("Table ")]
        parts = [_counted(("section", "sections"), sections, text)] if sections else []
        places = joined([*parts, *tables], COMMA)
        out.append(_("{document}, {places}", document=text["source_R"], places=places))
    out.extend(groups[""])
    return joined(out)


def labelled(label: str, value: str) -> str:
    """'Rule: summary — …' ('规则：…' in Chinese: the colon is the language's)."""
    return _("{label}: {value}", label=label, value=value)


def source_line(citation: str, text: Mapping[str, str]) -> str:
    """'Source: <the documents and sections cited>', as cards and the report end."""
    return labelled(text["source"], citation_text(citation, text))


@lru_cache(maxsize=512)
def _source_sentence(citation: str, locale: str) -> str:
    """A card's closing 'Source: ….' sentence, built once per rule citation and locale (`locale`
    is the current one, passed to key the cache)."""
    return _("{sentence}.", sentence=source_line(citation, wording()))


def source_label(citation: str, text: Mapping[str, str]) -> str:
    """The document(s) a card cites: the consensus, the review, or both (from its citation)."""
    groups = _cited(citation)
    if groups["C"] and groups["R"]:
        return text["label_both"]
    return text["label_R"] if groups["R"] else text["label_C"]


def basis(criterion: Criterion) -> str:
    """What a criterion rests on: its facts, then what is missing, then its note."""
    text = wording()
    parts = [f.evidence() for f in criterion.evidence]
    if criterion.missing:
        missing = joined(criterion.missing, COMMA)
        parts.append(labelled(text["missing_short"], missing))
    if criterion.note:
        parts.append(criterion.note)
    return joined(parts)


def _criteria_table(criteria: Iterable[Criterion], text: Mapping[str, str]) -> list[str]:
    lines = [
        f"| {text['criterion']} | {text['status']} | {text['based_on']} |",
        "| --- | --- | --- |",
    ]
    for c in criteria:
        lines.append(f"| {c.name} | **{status_text(c.status)}** | {_cell(basis(c)) or '—'} |")
    return lines


def _cell(value: str) -> str:
    return value.replace("|", "/").replace("\n", " ")


def detail_markdown(rec: Recommendation, text: Mapping[str, str]) -> str:
    """The card detail: recommendation, why, criteria, missing data, local policy, source."""
    heading = _("{heading}.", heading=text["recommendation"])
    lines = [f"**{heading}** {rec.advice}"] if rec.advice.strip() else []
    if rec.waiting:
        lines += ["", f"**{text['waiting']}**", *[f"- {w.text}" for w in rec.waiting]]
    evidence = list(dict.fromkeys(rec.evidence))
    if evidence:
        lines += ["", f"**{text['why']}**", *[f"- {f.evidence()}" for f in evidence]]
    if rec.criteria:
        lines += ["", f"**{text['criteria']}**", "", *_criteria_table(rec.criteria, text)]
    missing = list(dict.fromkeys(rec.missing))
    if missing:
        lines += ["", f"**{text['missing']}**", *[f"- {m}" for m in missing]]
    if rec.local_policy:
        lines += ["", f"**{text['local_policy']}**", *[f"- {p}" for p in rec.local_policy]]
    lines += ["", f"*{_source_sentence(rec.rule.citation, current_locale())}*"]
    return "\n".join(lines).lstrip("\n")


def _action(action: Action, patient_ref: str) -> dict[str, Any]:
    out: dict[str, Any] = {"type": action.type, "description": action.description}
    if action.order is not None:
        out["resource"] = order_resource(action.order, patient_ref, _new_id())
    if action.resource_id is not None:
        out["resourceId"] = action.resource_id
    return out


def _suggestion(suggestion: Suggestion, patient_ref: str) -> dict[str, Any]:
    out: dict[str, Any] = {"label": suggestion.label, "uuid": _new_id()}
    if suggestion.is_recommended is not None:
        out["isRecommended"] = suggestion.is_recommended
    if suggestion.actions:
        out["actions"] = [_action(a, patient_ref) for a in suggestion.actions]
    return out


def _summary(summary: str) -> str:
    return summary if len(summary) <= MAX_SUMMARY else summary[: MAX_SUMMARY - 1] + "…"


def build_card(rec: Recommendation, patient_ref: str, options: CardOptions) -> dict[str, Any]:
    """One CDS Hooks card for one fired rule."""
    text = wording()
    source: dict[str, Any] = {
        "label": source_label(rec.rule.citation, text),
        "topic": {"system": RULE_SYSTEM, "code": rec.rule.id, "display": _(rec.rule.title)},
    }
    if options.rule_url_base:
        source["url"] = f"{options.rule_url_base.rstrip('/')}/{rec.rule.id}"
    card: dict[str, Any] = {
        "uuid": _new_id(),
        "summary": _summary(rec.summary),
        "indicator": rec.indicator.value,
        "detail": detail_markdown(rec, text),
        "source": source,
    }
    if rec.suggestions:
        card["suggestions"] = [_suggestion(s, patient_ref) for s in rec.suggestions]
        card["selectionBehavior"] = rec.selection_behavior
    if rec.indicator is not Indicator.INFO:
        card["overrideReasons"] = [
            {"system": OVERRIDE_SYSTEM, "code": code, "display": text[key]}
            for code, key in OVERRIDE_REASONS
        ]
    if rec.dashboard_link and options.smart_app_url:
        card["links"] = [
            {"label": text["dashboard"], "url": options.smart_app_url, "type": "smart"}
        ]
    return card


def build_cards(
    recs: Iterable[Recommendation], patient_ref: str, options: CardOptions
) -> list[dict[str, Any]]:
    """Cards in the order given (the consensus layer already sorted them)."""
    return [build_card(rec, patient_ref, options) for rec in recs]
