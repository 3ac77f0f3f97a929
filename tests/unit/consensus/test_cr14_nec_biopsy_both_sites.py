"""CR-14: a NEC diagnosed on liver tissue gets no second-procedure push nor a resection option."""

from __future__ import annotations

from consensus.recommendation import Recommendation
from tests.fhir_builders import base_pnen_lm, differentiation, ki67, run
from tests.unit.consensus.test_imaging import nec_lm
from tests.unit.consensus.test_systemic import card_of, unresectable


def biopsy_card(*resources: dict[str, object]) -> Recommendation:
    """The biopsy-both-sites recommendation."""
    return run(list(resources))["biopsy-both-sites"]


def test_cr14_nec_on_liver_tissue_does_not_suggest_eus_fnb_of_the_primary() -> None:
    rec = biopsy_card(*nec_lm())
    assert rec.suggestions == ()
    assert rec.summary.startswith("NEC diagnosed on liver tissue")
    assert "do not delay chemotherapy" in rec.summary and len(rec.summary) < 140
    card_of(rec)


def test_cr14_nec_card_drops_the_resection_sentence_and_cites_c2_and_c7_2() -> None:
    rec = biopsy_card(*nec_lm())
    assert "if resection is an option" not in rec.advice
    assert "(C 2)" in rec.advice and "(C 7.2)" in rec.advice
    assert "delaying first-line chemotherapy" in rec.advice


def test_cr14_net_with_liver_grade_only_still_suggests_eus_fnb() -> None:
    rec = biopsy_card(*base_pnen_lm(), ki67(12, "liver"), *unresectable())
    assert rec.summary.startswith("Biopsy both primary and liver metastases")
    assert [s.label for s in rec.suggestions] == [
        "Order EUS-guided FNB of the primary and the liver metastases"
    ]


def test_cr14_nec_without_liver_grade_still_asks_for_biopsy_of_both_sites() -> None:
    rec = biopsy_card(*base_pnen_lm(), differentiation("poorly"), ki67(60, "primary"))
    assert rec.summary.startswith("Biopsy both primary and liver metastases")
    assert rec.suggestions


def test_cr14_net_with_unknown_resectability_keeps_the_resection_sentence() -> None:
    rec = biopsy_card(*base_pnen_lm(), ki67(12, "liver"))
    assert "if resection is an option" in rec.advice
