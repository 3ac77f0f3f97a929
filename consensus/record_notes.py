"""The summary card's words about the record: what was unreadable, what was another cancer's.

Silence is a failure mode: a clinician reading the summary must see, in words, that some of the
record could not be read or was set aside as another cancer's, with references but never the
resources' contents.
"""

from __future__ import annotations

from collections.abc import Sequence

from consensus.patient import Patient
from pnen_i18n import _, ngettext

LISTED = 5
"""References named per line; the rest are counted ("and 3 more")."""


def _listed(refs: Sequence[str]) -> str:
    shown = ", ".join(refs[:LISTED])
    more = len(refs) - LISTED
    return _("{refs} and {more} more", refs=shown, more=more) if more > 0 else shown


def _unreadable(refs: Sequence[str], kind: str) -> str:
    """'1 report could not be fully read: …', its noun counted in the catalogue's plural forms."""
    n, listed = len(refs), _listed(refs)
    # One whole sentence per resource type, so that each language counts its own noun.
    if kind == "Observation":
        return ngettext(
            "{n} result could not be fully read: {refs}",
            "{n} results could not be fully read: {refs}",
            n,
            refs=listed,
        )
    if kind == "DiagnosticReport":
        return ngettext(
            "{n} report could not be fully read: {refs}",
            "{n} reports could not be fully read: {refs}",
            n,
            refs=listed,
        )
    if kind == "Condition":
        return ngettext(
            "{n} diagnosis could not be fully read: {refs}",
            "{n} diagnoses could not be fully read: {refs}",
            n,
            refs=listed,
        )
    if kind == "Specimen":
        return ngettext(
            "{n} specimen could not be fully read: {refs}",
            "{n} specimens could not be fully read: {refs}",
            n,
            refs=listed,
        )
    if kind == "Procedure":
        return ngettext(
            "{n} procedure could not be fully read: {refs}",
            "{n} procedures could not be fully read: {refs}",
            n,
            refs=listed,
        )
    if kind == "ServiceRequest":
        return ngettext(
            "{n} order could not be fully read: {refs}",
            "{n} orders could not be fully read: {refs}",
            n,
            refs=listed,
        )
    if kind in ("MedicationRequest", "MedicationStatement", "MedicationAdministration"):
        return ngettext(
            "{n} medication record could not be fully read: {refs}",
            "{n} medication records could not be fully read: {refs}",
            n,
            refs=listed,
        )
    if kind == "AllergyIntolerance":
        return ngettext(
            "{n} allergy record could not be fully read: {refs}",
            "{n} allergy records could not be fully read: {refs}",
            n,
            refs=listed,
        )
    if kind == "Patient":
        return ngettext(
            "{n} patient record could not be fully read: {refs}",
            "{n} patient records could not be fully read: {refs}",
            n,
            refs=listed,
        )
    return ngettext(
        "{n} record entry could not be fully read: {refs}",
        "{n} record entries could not be fully read: {refs}",
        n,
        refs=listed,
    )


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
            "- "
            + _(
                "{unreadable} (what was unreadable is not used; see the data issues)",
                unreadable=_unreadable(unique, kind),
            )
        )
    return lines


def attribution_lines(p: Patient) -> list[str]:
    """Results set aside as another cancer's, and those that may be another cancer's."""
    lines = []
    excluded = p.record.all("other-cancer-result")
    if excluded:
        linked = {f.value for f in excluded}
        labels = [f.text for f in p.record.all("other-cancer") if f.ref in linked]
        refs = list(dict.fromkeys(f.ref for f in excluded))
        if labels:
            line = ngettext(
                "{n} record entry linked to another cancer ({cancers}) not used for the pNEN: "
                "{refs}",
                "{n} record entries linked to another cancer ({cancers}) not used for the pNEN: "
                "{refs}",
                len(refs),
                cancers=", ".join(dict.fromkeys(labels)),
                refs=_listed(refs),
            )
        else:
            line = ngettext(
                "{n} record entry linked to another cancer not used for the pNEN: {refs}",
                "{n} record entries linked to another cancer not used for the pNEN: {refs}",
                len(refs),
                refs=_listed(refs),
            )
        lines.append(f"- {line}")
    if p.possibly_other:
        shown = [f"{f.text} ({f.ref})" for f in p.possibly_other]
        cancers = ", ".join(f"{f.text}, {f.ref}" for f in p.other_cancers)
        line = _(
            "Possibly another cancer's ({cancers}), not counted as the pNEN's: {results}; "
            "criteria they would change are unknown",
            cancers=cancers,
            results=_listed(shown),
        )
        lines.append(f"- {line}")
    return lines


def enets_reassess_note(p: Patient) -> str:
    """'' when the ENETS type is current; else its date and that it needs re-assessment (CR-16)."""
    typed, progression = p.enets_type, p.enets_outdated_by
    if typed is None or progression is None:
        return ""
    return _(
        "The ENETS type {type} was recorded on {recorded}, before the progression of "
        "{progression}: re-assess the type on current imaging before relying on it (C 11.1).",
        type=typed.value,
        recorded=typed.when,
        progression=progression.when,
    )


def record_notes(p: Patient) -> list[str]:
    """The summary card's lines about the record: unreadable resources and attribution."""
    return [*unreadable_lines(p), *attribution_lines(p)]
