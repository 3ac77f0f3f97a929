"""The fixed wording of cards, per locale (rule texts come with the rules)."""

from __future__ import annotations

from collections.abc import Mapping

EN: Mapping[str, str] = {
    "source_label": "pNEN liver metastases consensus (J Pancreatol 2023)",
    "recommendation": "Recommendation",
    "why": "Why",
    "criteria": "Criteria",
    "criterion": "Criterion",
    "status": "Status",
    "based_on": "Based on",
    "missing": "Missing data",
    "missing_short": "missing",
    "rule": "Rule",
    "suggestions": "Suggested orders",
    "recommendations": "recommendation(s)",
    "no_recommendations": "No recommendations: no active pNEN on record, or nothing applies.",
    "data_issues": "Data issues (resources skipped or partly ignored)",
    "local_policy": "Local policy",
    "source": "Source",
    "data_note": "Closed-world facts (diagnoses, procedures, medications, studies on record) read "
    "as 'none recorded' when absent.",
    "source_C": "Chinese expert consensus on multidisciplinary diagnosis and treatment of "
    "pancreatic neuroendocrine liver metastases (J Pancreatol 2023;6:139–150), questions",
    "source_R": "Review of pancreatic neuroendocrine tumour management, sections",
    "dashboard": "Open the pNEN dashboard",
    "override_declined": "Patient declined",
    "override_mdt": "Discussed at multidisciplinary team meeting",
    "override_not_applicable": "Not applicable to this patient",
    "override_data": "Record data incorrect or out of date",
}
LOCALES: Mapping[str, Mapping[str, str]] = {"en": EN}
