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
from cards.text import indicator_text, status_text, wording
from consensus.recommendation import Indicator, Recommendation
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
from pnen_i18n import N_, _

# WHO 2019 grade boundaries on Ki-67 (consensus-rules.md, "WHO grade": G1 < 3 %, G3 > 20 %).
KI67_BANDS = (
    (3.0, N_("WHO G1/G2 boundary (Ki-67 3 %)")),
    (20.0, N_("WHO G2/G3 boundary (Ki-67 20 %)")),
)
SITE_NAMES = {
    PRIMARY: N_("primary"),
    LIVER: N_("liver metastasis"),
    UNKNOWN_SITE: N_("site not stated"),
}
MARKER_NAMES = {
    "cga": N_("Chromogranin A"),
    "nse": N_("Neuron-specific enolase"),
    "gastrin": N_("Gastrin"),
    "insulin": N_("Insulin"),
    "glucagon": N_("Glucagon"),
    "vip": N_("VIP"),
    "somatostatin": N_("Somatostatin"),
    "pancreatic-polypeptide": N_("Pancreatic polypeptide"),
}
# The page's own wording (headings, table columns, notes), sent to the browser in the request's
# language; dashboard.js fills the `{placeholders}`.
UI_TEXT = {
    "lane_diagnosis": N_("Diagnoses"),
    "lane_biopsy": N_("Biopsies and Ki-67"),
    "lane_imaging": N_("Imaging"),
    "lane_procedure": N_("Procedures"),
    "lane_therapy": N_("Systemic therapy"),
    "end_not_recorded": N_("{name} (end not recorded)"),
    "undated": N_("undated"),
    "until": N_("until {date}"),
    "timeline_events": N_("Timeline events"),
    "col_date": N_("date"),
    "col_end": N_("end"),
    "col_kind": N_("kind"),
    "col_event": N_("event"),
    "col_source": N_("source"),
    "col_site": N_("site"),
    "col_result": N_("result"),
    "col_criterion": N_("criterion"),
    "col_status": N_("status"),
    "col_based_on": N_("based on"),
    "ki67_site": N_("Ki-67, {site}"),
    "ki67_axis": N_("Ki-67 (%)"),
    "ki67_results": N_("Ki-67 results ({bands})"),
    "no_markers": N_("No tumour marker results on record."),
    "marker_title": N_("{name} ({unit})"),
    "marker_chart": N_("{title} over time, therapy periods shaded; values in the table below."),
    "as_table": N_("{title} as a table"),
    "criteria_of": N_("Criteria of {title}"),
    "source_rule": N_("Source: {citation}. Rule: "),
    "why": N_("Why (evidence)"),
    "details": N_("{title} — details"),
    "no_issues": N_("None: every resource read was usable."),
    "as_of": N_("{patient} · as of {date}"),
    "recommendations": N_("{n} recommendation(s)."),
    "load_failed": N_("The dashboard could not load: {reason}"),
    "loading": N_("Loading the record…"),
}
DIAGNOSIS_KINDS = ("pnen", "pnen-remission", "liver-metastasis", "extrahepatic-metastasis")
BIOPSY_PROCEDURES = ("eus-fnb", "liver-biopsy-percutaneous")


# Headings the page shares with the cards: the cards' own wording (cards/text.py).
CARD_WORDING = (
    "no_recommendations",
    "criteria",
    "missing",
    "waiting",
    "local_policy",
    "suggestions",
)


def ui_text() -> dict[str, str]:
    """The page's own wording in the current locale, the headings it shares with cards included."""
    cards = wording()
    return {
        **{key: _(text) for key, text in UI_TEXT.items()},
        **{key: cards[key] for key in CARD_WORDING},
        **{f"indicator_{i.value}": indicator_text(i) for i in Indicator},
    }


def _site(site: str) -> str:
    return _(SITE_NAMES[site]) if site in SITE_NAMES else site


def _day(when: date | None) -> str | None:
    return when.isoformat() if when else None


def _flags(fact: Fact) -> list[str]:
    return [_(flag) for flag in fact.flags]


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
    events += [_event("biopsy", f, f"{f.text}", site=_site(f.site)) for f in facts.all("ki67")]
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
            undated.append({**point, "site": _site(fact.site)})
        else:
            series.setdefault(_site(fact.site), []).append(point)
    bands = [{"value": value, "label": _(label)} for value, label in KI67_BANDS]
    return {"series": series, "bands": bands, "undated": undated}


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
            by_scale.setdefault(value.unit or _("no unit"), []).append(point)
            if value.reference_high:
                multiple = round(value.value / value.reference_high, 3)
                by_scale.setdefault(_("× upper reference limit"), []).append(
                    {
                        **point,
                        "value": multiple,
                        "display": _(
                            "{multiple:g} × ULN ({result})",
                            multiple=multiple,
                            result=point["display"],
                        ),
                    }
                )
        for scale, points in by_scale.items():
            out.append(
                {
                    "marker": kind,
                    "name": _(MARKER_NAMES[kind]) if kind in MARKER_NAMES else kind,
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
