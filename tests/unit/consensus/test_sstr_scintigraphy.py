"""SSTR scintigraphy (Octreoscan, SRI): SSTR status for SSA and PRRT, never the SSTR PET."""

from __future__ import annotations

from fhir_mappings.terminology import PNEN
from tests.fhir_builders import cc, days_ago, fired, patient_view, report, run
from tests.unit.consensus.test_systemic import (
    extrahepatic,
    net_lm,
    progressing_on_ssa,
    sstr_pet,
    statuses,
)


def octreoscan(result: str | None = "positive", days: int = 60) -> dict[str, object]:
    """An SSTR scintigraphy report with a coded result."""
    return report(cc(PNEN, "sstr-scintigraphy", "Octreoscan"), result=result, when=days_ago(days))


def test_a_positive_octreoscan_makes_the_sstr_status_positive() -> None:
    status = patient_view(net_lm(octreoscan())).sstr_status
    assert status.met


def test_a_negative_octreoscan_alone_makes_the_sstr_status_negative() -> None:
    assert patient_view(net_lm(octreoscan("negative"))).sstr_status.not_met


def test_an_octreoscan_without_a_result_leaves_the_sstr_status_unknown() -> None:
    assert patient_view(net_lm(octreoscan(None))).sstr_status.unknown


def test_ssa_first_line_fires_for_an_advanced_net_with_a_positive_octreoscan() -> None:
    rec = run(net_lm(extrahepatic(), octreoscan()))["ssa-first-line"]
    assert rec.missing == ()


def test_pet_ssa_still_asks_for_the_sstr_pet_when_only_scintigraphy_is_on_record() -> None:
    assert "pet-ssa" in fired(net_lm(octreoscan()))


def test_an_octreoscan_is_not_strong_sstr2_expression() -> None:
    assert patient_view(net_lm(octreoscan())).sstr2_strong == ()


def test_prrt_candidate_with_a_positive_octreoscan_and_progression_on_ssa() -> None:
    rec = run(progressing_on_ssa(octreoscan()))["prrt-candidate"]
    assert statuses(rec)["SSTR scintigraphy positive"] == "met"
    assert rec.missing == ()


def test_prrt_candidate_reads_the_latest_sstr_imaging_of_either_kind() -> None:
    older_pet = sstr_pet("positive", days=400)
    assert "prrt-candidate" not in fired(progressing_on_ssa(older_pet, octreoscan("negative", 30)))
    newer_pet = sstr_pet("positive", days=30)
    assert "prrt-candidate" in fired(progressing_on_ssa(newer_pet, octreoscan("negative", 400)))
