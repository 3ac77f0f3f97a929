"""The fixed wording of cards and reports (rule texts come with the rules), from the catalogues."""

from __future__ import annotations

from collections.abc import Mapping

from consensus.criteria import Status
from consensus.recommendation import Indicator
from pnen_i18n import N_, _, current_locale

EN: Mapping[str, str] = {
    "recommendation": N_("Recommendation"),
    "why": N_("Why"),
    "criteria": N_("Criteria"),
    "criterion": N_("Criterion"),
    "status": N_("Status"),
    "based_on": N_("Based on"),
    "missing": N_("Missing data"),
    "missing_short": N_("missing"),
    "rule": N_("Rule"),
    "suggestions": N_("Suggested orders"),
    "recommendations": N_("recommendation(s)"),
    "no_recommendations": N_("No recommendations: no active pNEN on record, or nothing applies."),
    "data_issues": N_("Data issues (resources skipped or partly ignored)"),
    "local_policy": N_("Local policy"),
    "source": N_("Source"),
    "data_note": N_(
        "Closed-world facts (diagnoses, procedures, medications, studies on record) read "
        "as 'none recorded' when absent."
    ),
    "source_C": N_(
        "Chinese expert consensus on multidisciplinary diagnosis and treatment of "
        "pancreatic neuroendocrine liver metastases (J Pancreatol 2023;6:139–150)"
    ),
    "source_R": N_("review of pancreatic neuroendocrine tumour management"),
    "question": N_("question"),
    "questions": N_("questions"),
    "section": N_("section"),
    "sections": N_("sections"),
    "label_C": N_("pNEN liver metastases consensus (J Pancreatol 2023)"),
    "label_R": N_("pNET management review"),
    "label_both": N_(
        "pNEN liver metastases consensus (J Pancreatol 2023) and pNET management review"
    ),
    "waiting": N_("Decisions waiting on data"),
    "dashboard": N_("Open the pNEN dashboard"),
    "override_declined": N_("Patient declined"),
    "override_mdt": N_("Discussed at multidisciplinary team meeting"),
    "override_not_applicable": N_("Not applicable to this patient"),
    "override_data": N_("Record data incorrect or out of date"),
}
STATUS: Mapping[Status, str] = {
    Status.MET: N_("met"),
    Status.NOT_MET: N_("not met"),
    Status.UNKNOWN: N_("unknown"),
}
INDICATORS: Mapping[Indicator, str] = {
    Indicator.INFO: N_("info"),
    Indicator.WARNING: N_("warning"),
    Indicator.CRITICAL: N_("critical"),
}
_WORDING: dict[str, Mapping[str, str]] = {}


def wording() -> Mapping[str, str]:
    """The fixed wording in the current locale (built once per locale)."""
    locale = current_locale()
    text = _WORDING.get(locale)
    if text is None:
        text = _WORDING[locale] = {key: _(value) for key, value in EN.items()}
    return text


def indicator_text(indicator: Indicator) -> str:
    """'info', 'warning' or 'critical' in the current locale."""
    return _(INDICATORS[indicator])


def status_text(status: Status) -> str:
    """'met', 'not met' or 'unknown' in the current locale."""
    return _(STATUS[status])


# Where the review's paragraph headings sit in its outline, so a citation names the section
# ("Serum biomarkers — Chromogranin A"); headings not listed are sections themselves.
REVIEW_SECTIONS: Mapping[str, str] = {
    "Chromogranin A": N_("Serum biomarkers — Chromogranin A"),
    "Pancreatic polypeptide": N_("Serum biomarkers — Pancreatic polypeptide"),
    "Gastrin": N_("Serum biomarkers — Gastrin"),
    "Staging": N_("Staging and grading — Staging"),
    "Lymph nodes dissection": N_("Surgical management — Lymph nodes dissection"),
    "Postoperative follow-up": N_("Surgical management — Postoperative follow-up"),
    "Biological therapy": N_("Drug therapy — Biological therapy"),
    "Targeted therapy": N_("Drug therapy — Targeted therapy"),
    "Chemotherapy": N_("Drug therapy — Chemotherapy"),
    "Immunotherapy": N_("Drug therapy — Immunotherapy"),
    "PRRT": N_("Peptide receptor radionuclide therapy (PRRT)"),
}
# Review headings cited that are sections themselves (named in the catalogue for translation).
REVIEW_HEADINGS: tuple[str, ...] = (
    N_("Liver transarterial embolization"),
    N_("Surgical management"),
)


def review_section(heading: str) -> str:
    """A review heading cited by a rule as the section it names, in the current locale."""
    return _(REVIEW_SECTIONS.get(heading, heading))
