"""Words in report text that name a tumour: a neuroendocrine neoplasm, or another tumour.

Shared by the report-text reader (`narrative`: which part of a report is about the pNEN) and the
attribution (`attribution`: a report about another tumour is that cancer's, its results too).
"""

from __future__ import annotations

import re

from fhir_mappings.context import Sentence, sentences

NEN = re.compile(
    r"(?i:neuroendocrine|carcinoid|islet[-\s]cell|insulinoma|gastrinoma|glucagonoma|vipoma|"
    r"somatostatinoma)|(?<![\w])(?:NET|NEC|NEN|PNET|pNET|pNEN)s?(?![\w])|"
    r"神经内分泌|类癌|胰岛细胞瘤|胰岛素瘤|胃泌素瘤"
)
"""A neuroendocrine neoplasm named (NET, NEC or the umbrella NEN, functional syndromes)."""

OTHER_TUMOUR = re.compile(
    r"(?i:(?<![\w-])(?:adenocarcinoma|cholangiocarcinoma|hepatocellular\s+carcinoma|"
    r"(?:ductal|squamous[-\s]cell|acinar[-\s]cell|urothelial|lobular|renal[-\s]cell|"
    r"clear[-\s]cell|serous|mucinous|signet[-\s]ring[-\s]cell)\s+carcinoma|"
    r"gastrointestinal\s+stromal\s+tumou?r|lymphoma|sarcoma|melanoma|mesothelioma)(?![\w]))|"
    r"(?<![\w])GIST(?![\w])|腺癌|鳞癌|导管癌|间质瘤|淋巴瘤|肉瘤|黑色素瘤|肝细胞癌|胆管癌"
)
"""A tumour that is not a neuroendocrine neoplasm (another cancer's report or report part)."""


def other_tumour_named(sentence: Sentence) -> bool:
    """The sentence asserts another tumour (not negated, not advisory) and names no NEN."""
    text = sentence.text
    if NEN.search(text):
        return False
    return any(sentence.asserted(m.start(), m.end()) for m in OTHER_TUMOUR.finditer(text))


def about_other_tumour(text: str) -> bool:
    """A normalized report text about another tumour only: one asserted, and no NEN anywhere."""
    if NEN.search(text) or not OTHER_TUMOUR.search(text):
        return False
    return any(other_tumour_named(Sentence(raw)) for raw in sentences(text))
