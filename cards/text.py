"""The fixed wording of cards, per locale (rule texts come with the rules)."""

from __future__ import annotations

from collections.abc import Mapping

EN: Mapping[str, str] = {
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
    "pancreatic neuroendocrine liver metastases (J Pancreatol 2023;6:139–150)",
    "source_R": "review of pancreatic neuroendocrine tumour management",
    "question": "question",
    "questions": "questions",
    "section": "section",
    "sections": "sections",
    "label_C": "pNEN liver metastases consensus (J Pancreatol 2023)",
    "label_R": "pNET management review",
    "label_both": "pNEN liver metastases consensus (J Pancreatol 2023) and pNET management review",
    "waiting": "Decisions waiting on data",
    "dashboard": "Open the pNEN dashboard",
    "override_declined": "Patient declined",
    "override_mdt": "Discussed at multidisciplinary team meeting",
    "override_not_applicable": "Not applicable to this patient",
    "override_data": "Record data incorrect or out of date",
}
LOCALES: Mapping[str, Mapping[str, str]] = {"en": EN}

# Where the review's paragraph headings sit in its outline, so a citation names the section
# ("Serum biomarkers — Chromogranin A"); headings not listed are sections themselves.
REVIEW_SECTIONS: Mapping[str, str] = {
    "Chromogranin A": "Serum biomarkers — Chromogranin A",
    "Pancreatic polypeptide": "Serum biomarkers — Pancreatic polypeptide",
    "Gastrin": "Serum biomarkers — Gastrin",
    "Staging": "Staging and grading — Staging",
    "Lymph nodes dissection": "Surgical management — Lymph nodes dissection",
    "Postoperative follow-up": "Surgical management — Postoperative follow-up",
    "Biological therapy": "Drug therapy — Biological therapy",
    "Targeted therapy": "Drug therapy — Targeted therapy",
    "Chemotherapy": "Drug therapy — Chemotherapy",
    "Immunotherapy": "Drug therapy — Immunotherapy",
    "PRRT": "Peptide receptor radionuclide therapy (PRRT)",
}
