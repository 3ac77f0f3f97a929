"""Local defaults (consensus-rules.md, "Local defaults"): the two new ones, and range validation."""

from __future__ import annotations

from pathlib import Path

import pytest

from cds_service import create_app
from cds_service.config import load_config
from consensus.settings import LOCAL_DEFAULTS, SettingOutOfRangeError, Settings


def test_adjuvant_window_defaults_to_6_months_and_is_labelled_local_policy() -> None:
    settings = Settings()
    assert settings.value("adjuvant-window-months") == 6
    assert settings.describe("adjuvant-window-months") == (
        "adjuvant window after a curative-intent resection: 6 months (local policy, configurable)"
    )


def test_stale_guiding_study_defaults_to_6_months_and_is_labelled_local_policy() -> None:
    settings = Settings()
    assert settings.value("stale-study-months") == 6
    assert settings.describe("stale-study-months").endswith(
        ": 6 months (local policy, configurable)"
    )


@pytest.mark.parametrize("name", sorted(LOCAL_DEFAULTS))
def test_every_local_default_lies_within_its_accepted_range(name: str) -> None:
    default = LOCAL_DEFAULTS[name]
    assert default.low <= default.value <= default.high


@pytest.mark.parametrize("name", sorted(LOCAL_DEFAULTS))
def test_a_local_default_is_accepted_at_both_ends_of_its_range(name: str) -> None:
    default = LOCAL_DEFAULTS[name]
    assert Settings({name: default.low}).value(name) == default.low
    assert Settings({name: default.high}).value(name) == default.high


@pytest.mark.parametrize("name", sorted(LOCAL_DEFAULTS))
def test_a_local_default_outside_its_range_is_refused(name: str) -> None:
    default = LOCAL_DEFAULTS[name]
    with pytest.raises(SettingOutOfRangeError, match=name):
        Settings({name: default.low - 1})
    with pytest.raises(SettingOutOfRangeError, match=name):
        Settings({name: default.high + 1})


@pytest.mark.parametrize(("months", "accepted"), [(0, False), (1, True), (24, True), (25, False)])
def test_adjuvant_window_range_is_1_to_24_months(months: int, accepted: bool) -> None:
    if accepted:
        assert (
            Settings({"adjuvant-window-months": months}).value("adjuvant-window-months") == months
        )
    else:
        with pytest.raises(SettingOutOfRangeError, match="accepted 1–24"):
            Settings({"adjuvant-window-months": months})


@pytest.mark.parametrize(("months", "accepted"), [(0, False), (1, True), (36, True), (37, False)])
def test_stale_study_range_is_1_to_36_months(months: int, accepted: bool) -> None:
    if accepted:
        assert Settings({"stale-study-months": months}).value("stale-study-months") == months
    else:
        with pytest.raises(SettingOutOfRangeError, match="accepted 1–36"):
            Settings({"stale-study-months": months})


def test_an_out_of_range_local_default_fails_at_start_up(tmp_path: Path) -> None:
    with pytest.raises(SettingOutOfRangeError, match="adjuvant-window-months = 120"):
        create_app(
            load_config(
                {"dev": True, "auth": "off", "database_url": f"sqlite:///{tmp_path / 's.db'}"},
                environ={"PNEN_CDS_DEFAULT_ADJUVANT_WINDOW_MONTHS": "120"},
            )
        )
