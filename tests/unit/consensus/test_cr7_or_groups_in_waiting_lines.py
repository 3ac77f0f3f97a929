"""CR-7: an unknown alternative of a met OR group is not a decision waiting on data."""

from __future__ import annotations

from typing import Any

from consensus.criteria import alternatives, known, unknown
from tests.fhir_builders import days_ago, disease_status, enets, flag, run
from tests.unit.consensus.test_systemic import net_lm

WORSENED = "271299001"


def waiting_titles(resources: list[dict[str, Any]]) -> dict[str, set[str]]:
    """The summary's waiting lines: each open fact → the titles of the rules it decides."""
    summary = run(resources)["summary"]
    return {w.datum: {r.title for r in w.rules} for w in summary.waiting}


def titles_waiting_on_enets(resources: list[dict[str, Any]]) -> set[str]:
    """Titles of the rules said to wait on the ENETS type."""
    return next(
        (titles for datum, titles in waiting_titles(resources).items() if "ENETS" in datum),
        set(),
    )


def test_cr7_liver_mri_fired_by_resectability_assessment_does_not_wait_on_enets_type() -> None:
    record = net_lm(flag("r0-r1-feasible", True))
    fired = run(record)
    assert "liver-mri-hepatobiliary" in fired
    assert fired["liver-mri-hepatobiliary"].missing == ()
    assert "Liver MRI with hepatobiliary contrast" not in titles_waiting_on_enets(record)


def test_cr7_mgmt_test_fired_by_progression_does_not_wait_on_enets_type() -> None:
    record = net_lm(disease_status(WORSENED, when=days_ago(20)))
    assert "mgmt-test" in run(record)
    assert "MGMT immunohistochemistry indicated" not in titles_waiting_on_enets(record)


def test_cr7_mgmt_test_silent_without_progression_still_waits_on_enets_type() -> None:
    record = net_lm()
    assert "MGMT immunohistochemistry indicated" in titles_waiting_on_enets(record)


def test_cr7_a_known_enets_type_leaves_nothing_waiting_on_it() -> None:
    record = net_lm(enets("II"), disease_status(WORSENED, when=days_ago(20)))
    assert titles_waiting_on_enets(record) == set()


def test_cr7_alternatives_unchanged_when_none_is_met() -> None:
    rows = (unknown("a", "datum a"), known("b", False))
    assert alternatives(*rows) == rows
    assert rows[0].data_wanted == ("datum a",)


def test_cr7_alternatives_mark_unknown_rows_not_needed_once_one_is_met() -> None:
    a, b = alternatives(unknown("a", "datum a"), known("b", True))
    assert a.unknown and not a.needed and a.data_wanted == ()
    assert "alternative is met" in a.note
    assert b.met and b.needed
