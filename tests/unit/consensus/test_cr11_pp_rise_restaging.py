"""CR-11: a PP rise after the last abdominal CT/MRI suggests restaging CT, naming the study."""

from __future__ import annotations

from typing import Any

from consensus import Recommendation
from fhir_mappings.terminology import PNEN
from tests.fhir_builders import base_pnen_lm, cc, days_ago, report, run, service_request
from tests.unit.consensus.test_biomarkers import card_of, pp

CT_CODE = cc(PNEN, "ct-abdomen-pelvis-multiphase")


def pp_rise(*extra: dict[str, Any]) -> Recommendation:
    """The pp-rise card for PP 100 → 180 pg/mL (120 and 10 days ago) with extra resources."""
    return run([*base_pnen_lm(), pp(100, when=120), pp(180, when=10), *extra])["pp-rise"]


def ct(days: int, result: str | None = "positive") -> dict[str, Any]:
    """A multiphasic CT abdomen/pelvis without a display, `days` ago."""
    return report(CT_CODE, when=days_ago(days), result=result, rid=f"ct-{days}")


def test_cr11_ct_before_the_rise_suggests_restaging_ct() -> None:
    rec = pp_rise(ct(60))
    assert "consider restaging CT" in rec.summary and len(rec.summary) < 140
    card = card_of(rec)
    [suggestion] = card["suggestions"]
    assert suggestion["label"] == "Order multiphasic contrast CT abdomen/pelvis"
    [action] = suggestion["actions"]
    assert action["resource"]["code"]["coding"][0]["code"] == "ct-abdomen-pelvis-multiphase"


def test_cr11_the_earlier_study_is_named_readably_and_not_tracer_avid() -> None:
    rec = pp_rise(ct(60))
    assert (
        "Multiphasic contrast CT abdomen/pelvis: positive (disease present), " + days_ago(60)
    ) in rec.advice
    assert "tracer-avid" not in rec.advice and "ct-abdomen-pelvis-multiphase" not in rec.advice


def test_cr11_no_imaging_on_record_also_suggests_restaging_ct() -> None:
    rec = pp_rise()
    assert "No abdominal CT or MRI is on record." in rec.advice
    assert rec.suggestions


def test_cr11_ct_after_the_rise_suggests_nothing() -> None:
    rec = pp_rise(ct(5))
    assert rec.suggestions == ()
    assert "predates" not in rec.advice and "restaging" not in rec.summary


def test_cr11_ct_on_the_day_of_the_rise_is_current() -> None:
    rec = pp_rise(ct(10))
    assert rec.suggestions == ()


def test_cr11_a_pending_ct_order_is_named_instead_of_a_new_suggestion() -> None:
    order = service_request("ct-abdomen-pelvis-multiphase", status="active", rid="sr-ct")
    rec = pp_rise(ct(60), order)
    assert rec.suggestions == ()
    assert "already ordered: ServiceRequest/sr-ct" in rec.advice
