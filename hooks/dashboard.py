"""The pNEN dashboard's data: the record's facts laid out for charts, and every recommendation.

Computed from the same facts and the same patient-view evaluation as the hooks (one source of
truth); the browser only draws what this returns. Pure: no IO.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date
from typing import Any

from cards import CardOptions
from cards.build import basis, citation_text
from cards.text import status_text, wording
from consensus.recommendation import Recommendation
from fhir_mappings.facts import (
    LIVER,
    PRIMARY,
    SYSTEMIC_THERAPY_CLASSES,
    UNKNOWN_SITE,
    Fact,
    Medication,
    PatientFacts,
    Quantity,
)
from fhir_mappings.observations import LABS
from hooks.evaluation import HookResult
from pnen_i18n import _

# WHO 2019 grade boundaries on Ki-67 (consensus-rules.md, "WHO grade": G1 < 3 %, G3 > 20 %).
KI67_BANDS = (
    {"value": 3.0, "label": "WHO G1/G2 boundary (Ki-67 3 %)"},
    {"value": 20.0, "label": "WHO G2/G3 boundary (Ki-67 20 %)"},
)
SITE_NAMES = {PRIMARY: "primary", LIVER: "liver metastasis", UNKNOWN_SITE: "site not stated"}
MARKER_NAMES = {
    "cga": "Chromogranin A",
    "nse": "Neuron-specific enolase",
    "gastrin": "Gastrin",
    "insulin": "Insulin",
    "glucagon": "Glucagon",
    "vip": "VIP",
    "somatostatin": "Somatostatin",
    "pancreatic-polypeptide": "Pancreatic polypeptide",
}
DIAGNOSIS_KINDS = ("pnen", "pnen-remission", "liver-metastasis", "extrahepatic-metastasis")
BIOPSY_PROCEDURES = ("eus-fnb", "liver-biopsy-percutaneous")


def _day(when: date | None) -> str | None:
    return when.isoformat() if when else None


def _flags(fact: Fact) -> list[str]:
    return list(fact.flags)


def _event(lane: str, fact: Fact, label: str | None = None, **extra: Any) -> dict[str, Any]:
    out: dict[str, Any] = {
        "lane": lane,
        "label": label or fact.text,
        "date": _day(fact.when),
        "ref": fact.ref,
    }
    if fact.flags:
        out["flags"] = _flags(fact)
    out.update(extra)
    return out


def _kinds(facts: PatientFacts, prefix: str) -> list[str]:
    return [kind for kind in facts.by_kind if kind.startswith(prefix)]


def _once(items: Iterable[Fact]) -> list[Fact]:
    """Facts with one per FHIR reference (a report mapped to two imaging kinds shows once)."""
    seen: dict[str, Fact] = {}
    for fact in items:
        seen.setdefault(fact.ref, fact)
    return sorted(seen.values(), key=lambda f: (f.when or date.min, f.ref))


def therapies(facts: PatientFacts, today: date) -> list[dict[str, Any]]:
    """Systemic antitumour therapies as periods: start, end (today while active), status."""
    out = []
    for fact in _once(
        f for cls in SYSTEMIC_THERAPY_CLASSES for f in facts.all(f"medication:{cls}")
    ):
        med = fact.value
        if not isinstance(med, Medication):
            continue
        end = med.end or (today if med.active else None)
        out.append(
            {
                "name": med.name,
                "start": _day(med.start),
                "end": _day(end),
                "active": med.active,
                "endKnown": med.end is not None or med.active,
                "ref": fact.ref,
                "label": fact.text,
            }
        )
    return out


def timeline(facts: PatientFacts, today: date) -> list[dict[str, Any]]:
    """Diagnoses, biopsies (site, Ki-67), imaging (tracer, result), procedures and therapies."""
    events = [
        _event("diagnosis", f) for f in _once(f for k in DIAGNOSIS_KINDS for f in facts.all(k))
    ]
    for kind in _kinds(facts, "procedure:"):
        lane = "biopsy" if kind.split(":", 1)[1] in BIOPSY_PROCEDURES else "procedure"
        events += [_event(lane, f) for f in facts.all(kind)]
    events += [
        _event("biopsy", f, f"{f.text}", site=SITE_NAMES.get(f.site, f.site))
        for f in facts.all("ki67")
    ]
    imaging = _once(f for kind in _kinds(facts, "imaging:") for f in facts.all(kind))
    events += [
        _event("imaging", f, **({"result": f.value} if isinstance(f.value, str) else {}))
        for f in imaging
    ]
    for therapy in therapies(facts, today):
        events.append(
            {
                "lane": "therapy",
                "label": therapy["label"],
                "date": therapy["start"],
                "end": therapy["end"],
                "ref": therapy["ref"],
            }
        )
    return sorted(events, key=lambda e: (e["date"] is None, e["date"] or "", e["lane"]))


def ki67_by_site(facts: PatientFacts) -> dict[str, Any]:
    """Ki-67 results per site over time, with the WHO grade bands to draw."""
    series: dict[str, list[dict[str, Any]]] = {}
    undated = []
    for fact in facts.all("ki67"):
        value = fact.value
        if not isinstance(value, Quantity):
            continue
        point = {
            "date": _day(fact.when),
            "value": value.value,
            "display": value.display(),
            "ref": fact.ref,
        }
        if value.comparator:
            point["comparator"] = value.comparator
        if fact.when is None:
            undated.append({**point, "site": SITE_NAMES.get(fact.site, fact.site)})
        else:
            series.setdefault(SITE_NAMES.get(fact.site, fact.site), []).append(point)
    return {"series": series, "bands": list(KI67_BANDS), "undated": undated}


def markers(facts: PatientFacts) -> list[dict[str, Any]]:
    """Tumour markers over time: one series per marker and unit (never mixed), and a series as
    a multiple of the upper reference limit for results that give one."""
    out: list[dict[str, Any]] = []
    for kind in LABS:
        by_scale: dict[str, list[dict[str, Any]]] = {}
        for fact in facts.all(kind):
            value = fact.value
            if not isinstance(value, Quantity) or fact.when is None:
                continue
            point = {
                "date": _day(fact.when),
                "value": value.value,
                "display": value.display(),
                "ref": fact.ref,
            }
            by_scale.setdefault(value.unit or "no unit", []).append(point)
            if value.reference_high:
                multiple = round(value.value / value.reference_high, 3)
                by_scale.setdefault("× upper reference limit", []).append(
                    {
                        **point,
                        "value": multiple,
                        "display": f"{multiple:g} × ULN ({point['display']})",
                    }
                )
        for scale, points in by_scale.items():
            out.append(
                {
                    "marker": kind,
                    "name": MARKER_NAMES.get(kind, kind),
                    "unit": scale,
                    "points": points,
                }
            )
    return out


def recommendation(rec: Recommendation, options: CardOptions) -> dict[str, Any]:
    """One fired rule as the dashboard shows it: the card's content, structured."""
    text = wording()
    out: dict[str, Any] = {
        "rule": rec.rule.id,
        "title": _(rec.rule.title),
        "indicator": rec.indicator.value,
        "summary": rec.summary,
        "advice": rec.advice,
        "criteria": [
            {
                "name": c.name,
                "status": c.status.value,
                "statusText": status_text(c.status),
                "basis": basis(c),
            }
            for c in rec.criteria
        ],
        "evidence": [f.evidence() for f in dict.fromkeys(rec.evidence)],
        "missing": list(dict.fromkeys(rec.missing)),
        "localPolicy": list(rec.local_policy),
        "citation": citation_text(rec.rule.citation, text),
        "suggestions": [s.label for s in rec.suggestions],
    }
    if rec.waiting:  # the summary: every decision waiting on data, derived from rules' criteria
        out["waiting"] = [w.text for w in rec.waiting]
    if options.rule_url_base:
        out["url"] = f"{options.rule_url_base.rstrip('/')}/{rec.rule.id}"
    return out


def dashboard_data(
    facts: PatientFacts,
    result: HookResult,
    options: CardOptions,
    today: date,
    earlier_issues: Iterable[Mapping[str, str]] = (),
) -> dict[str, Any]:
    """Everything the dashboard draws for one patient, as JSON-ready data."""
    issues = [*earlier_issues, *(i.as_json() for i in result.data_issues)]
    return {
        "patient": facts.patient_ref,
        "today": today.isoformat(),
        "hasPnen": bool(result.recommendations) or facts.has("pnen"),
        "timeline": timeline(facts, today),
        "therapies": therapies(facts, today),
        "ki67": ki67_by_site(facts),
        "markers": markers(facts),
        "recommendations": [recommendation(r, options) for r in result.recommendations],
        "dataIssues": list({tuple(sorted(i.items())): i for i in issues}.values()),
    }
