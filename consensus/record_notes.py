"""The summary card's words about the record: what was unreadable, what was another cancer's.

Silence is a failure mode: a clinician reading the summary must see, in words, that some of the
record could not be read or was set aside as another cancer's, with references but never the
resources' contents.
"""

from __future__ import annotations

from collections.abc import Sequence

from consensus.patient import Patient

_NAMES = {
    "Observation": ("result", "results"),
    "DiagnosticReport": ("report", "reports"),
    "Condition": ("diagnosis", "diagnoses"),
    "Specimen": ("specimen", "specimens"),
    "Procedure": ("procedure", "procedures"),
    "ServiceRequest": ("order", "orders"),
    "MedicationRequest": ("medication record", "medication records"),
    "MedicationStatement": ("medication record", "medication records"),
    "MedicationAdministration": ("medication record", "medication records"),
    "AllergyIntolerance": ("allergy record", "allergy records"),
    "Patient": ("patient record", "patient records"),
}
_OTHER = ("record entry", "record entries")
LISTED = 5
"""References named per line; the rest are counted ("and 3 more")."""


def _listed(refs: Sequence[str]) -> str:
    shown = ", ".join(refs[:LISTED])
    more = len(refs) - LISTED
    return f"{shown} and {more} more" if more > 0 else shown


def _count(refs: Sequence[str], kind: str) -> str:
    one, many = _NAMES.get(kind, _OTHER)
    return f"{len(refs)} {one if len(refs) == 1 else many}"


def unreadable_lines(p: Patient) -> list[str]:
    """'1 report could not be fully read: DiagnosticReport/x', one line per resource type."""
    by_type: dict[str, dict[str, None]] = {}
    for issue in p.record.data_issues:
        kind = issue.reference.split("/", 1)[0] if "/" in issue.reference else ""
        by_type.setdefault(kind, {})[issue.reference] = None
    lines = []
    for kind, refs in by_type.items():
        unique = list(refs)
        lines.append(
            f"- {_count(unique, kind)} could not be fully read: {_listed(unique)} "
            "(what was unreadable is not used; see the data issues)"
        )
    return lines


def attribution_lines(p: Patient) -> list[str]:
    """Results set aside as another cancer's, and those that may be another cancer's."""
    lines = []
    excluded = p.record.all("other-cancer-result")
    if excluded:
        linked = {f.value for f in excluded}
        labels = [f.text for f in p.record.all("other-cancer") if f.ref in linked]
        whose = f" ({', '.join(dict.fromkeys(labels))})" if labels else ""
        refs = list(dict.fromkeys(f.ref for f in excluded))
        lines.append(
            f"- {len(refs)} record {'entry' if len(refs) == 1 else 'entries'} linked to another "
            f"cancer{whose} not used for the pNEN: {_listed(refs)}"
        )
    if p.possibly_other:
        shown = [f"{f.text} ({f.ref})" for f in p.possibly_other]
        cancers = ", ".join(f"{f.text}, {f.ref}" for f in p.other_cancers)
        lines.append(
            f"- Possibly another cancer's ({cancers}), not counted as the pNEN's: "
            f"{_listed(shown)}; criteria they would change are unknown"
        )
    return lines


def enets_reassess_note(p: Patient) -> str:
    """'' when the ENETS type is current; else its date and that it needs re-assessment (CR-16)."""
    typed, progression = p.enets_type, p.enets_outdated_by
    if typed is None or progression is None:
        return ""
    return (
        f"The ENETS type {typed.value} was recorded on {typed.when}, before the progression of "
        f"{progression.when}: re-assess the type on current imaging before relying on it "
        "(C 11.1)."
    )


def record_notes(p: Patient) -> list[str]:
    """The summary card's lines about the record: unreadable resources and attribution."""
    return [*unreadable_lines(p), *attribution_lines(p)]
