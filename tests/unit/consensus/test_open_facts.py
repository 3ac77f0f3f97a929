"""Open facts (consensus-rules.md "Open and closed facts"): absent means unknown, never met/not met.

Each open fact of the spec is left out of an otherwise complete pNEN-LM record; the definition
that reads it must answer *unknown* and name the missing data, and a card that depends on it must
list it as missing rather than guess. Closed facts, by contrast, read as "none recorded".
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from consensus.criteria import Criterion
from consensus.patient import Patient
from consensus.recommendation import SIGN
from tests.fhir_builders import (
    base_pnen_lm,
    differentiation,
    enets,
    fired,
    ki67,
    patient_view,
    run,
    service_request,
)

OPEN_FACTS: dict[str, tuple[Callable[[Patient], Criterion], str]] = {
    "resectability": (lambda p: p.resectability, "R0/R1 resection feasibility"),
    "R0/R1 feasibility": (lambda p: p.flag("r0-r1-feasible"), "R0/R1 resection feasibility"),
    "remnant liver volume": (lambda p: p.remnant_ok, "expected remnant liver volume"),
    "tumour burden": (
        lambda p: p.measure("liver-tumor-burden", "burden < 50 %", "<", 50),
        "liver tumour burden",
    ),
    "NED": (lambda p: p.flag("ned"), "NED (no evidence of disease) status"),
    "SSTR status": (lambda p: p.sstr_status, "SSTR status"),
    "vessel contact": (lambda p: p.primary_unresectable, "primary resectability"),
    "stability duration": (lambda p: p.stable_months(6), "stable or improved disease status"),
    "refractory symptoms": (
        lambda p: p.flag("hormone-symptoms-refractory"),
        "whether hormone symptoms are refractory",
    ),
    "nodal risk": (lambda p: p.flag("high-nodal-risk"), "risk of nodal metastasis"),
    "Ki-67 threshold": (lambda p: p.ki67_criterion("Ki-67 < 10 %", "<", 10), "Ki-67 index"),
}


def _record() -> list[dict[str, Any]]:
    """pNEN-LM with every closed fact recorded as absent and no open fact recorded at all."""
    return base_pnen_lm()


@pytest.mark.parametrize("fact", sorted(OPEN_FACTS))
def test_an_absent_open_fact_is_unknown_and_names_what_is_missing(fact: str) -> None:
    read, missing = OPEN_FACTS[fact]
    criterion = read(patient_view(_record()))
    assert criterion.unknown, f"{fact}: {criterion.status.value}, expected unknown"
    assert not criterion.met and not criterion.not_met
    assert any(missing in m for m in criterion.missing), criterion.missing


def test_absent_differentiation_is_neither_net_nor_nec() -> None:
    p = patient_view(_record())
    assert p.differentiation == (None, ())
    assert not p.is_net and not p.is_nec and not p.is_g3_unknown


def test_absent_enets_type_is_unknown_not_type_one_two_or_three() -> None:
    p = patient_view(_record())
    assert p.enets_type is None
    assert not any(p.enets_is(t) for t in ("I", "II", "III"))


def test_absent_mgmt_is_neither_high_nor_low() -> None:
    assert patient_view(_record()).mgmt_high is None


def test_closed_facts_read_as_none_recorded() -> None:
    p = patient_view(_record())
    assert p.extrahepatic == () and p.functional == ()
    assert p.done("hepatectomy-anatomic") == () and p.active("ssa") == ()
    assert p.imaging("pet-ssa") == ()


def test_transplant_card_lists_the_unknown_milan_criteria_instead_of_guessing() -> None:
    record = [*_record(), differentiation("well"), ki67(5, "liver")]
    draft = service_request("liver-transplant-referral", rid="sr-tx")
    rec = run(record, hook=SIGN, drafts=[draft])["transplant-milan"]
    status = {c.name: c.status.value for c in rec.criteria}
    assert status["(4) liver tumour burden < 50 %"] == "unknown"
    assert status["(5) stable disease or stable response ≥ 6 months"] == "unknown"
    assert any("liver tumour burden" in m for m in rec.missing)


def test_a_rule_that_hinges_on_an_open_fact_stays_silent_without_it() -> None:
    record = [*_record(), differentiation("well"), ki67(5, "liver"), enets("II")]
    ids = fired(record)
    # Advanced disease is unknown (resectability not assessed): no SSA or targeted-therapy card.
    assert not {"ssa-first-line", "targeted-therapy", "prrt-candidate"} & ids
    # Refractory symptoms are unknown: no debulking card.
    assert "debulking-functional" not in ids
