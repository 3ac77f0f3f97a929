"""Local defaults (consensus-rules.md, "Local defaults"): the two new ones, and range validation."""

from __future__ import annotations

from pathlib import Path

import pytest

from cds_service import create_app
from cds_service.config import ConfigError, load_config
from consensus.settings import LOCAL_DEFAULTS, Settings, SettingValueError


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
    assert default.problem(default.value) is None


@pytest.mark.parametrize("name", sorted(LOCAL_DEFAULTS))
def test_a_local_default_is_accepted_at_both_ends_of_its_range(name: str) -> None:
    default = LOCAL_DEFAULTS[name]
    assert default.maximum is not None
    assert Settings({name: default.minimum}).value(name) == default.minimum
    assert Settings({name: default.maximum}).value(name) == default.maximum


@pytest.mark.parametrize("name", sorted(LOCAL_DEFAULTS))
def test_a_local_default_outside_its_range_is_refused(name: str) -> None:
    default = LOCAL_DEFAULTS[name]
    with pytest.raises(SettingValueError, match=name):
        Settings({name: default.minimum - 1})
    assert default.maximum is not None
    with pytest.raises(SettingValueError, match=name):
        Settings({name: default.maximum + 1})


@pytest.mark.parametrize(("months", "accepted"), [(0, False), (1, True), (24, True), (25, False)])
def test_adjuvant_window_range_is_1_to_24_months(months: int, accepted: bool) -> None:
    if accepted:
        assert (
            Settings({"adjuvant-window-months": months}).value("adjuvant-window-months") == months
        )
    else:
        with pytest.raises(SettingValueError, match="between 1 and 24"):
            Settings({"adjuvant-window-months": months})


@pytest.mark.parametrize(("months", "accepted"), [(0, False), (1, True), (36, True), (37, False)])
def test_stale_study_range_is_1_to_36_months(months: int, accepted: bool) -> None:
    if accepted:
        assert Settings({"stale-study-months": months}).value("stale-study-months") == months
    else:
        with pytest.raises(SettingValueError, match="between 1 and 36"):
            Settings({"stale-study-months": months})


def test_an_out_of_range_local_default_fails_at_start_up(tmp_path: Path) -> None:
    with pytest.raises(
        ConfigError, match="PNEN_CDS_DEFAULT_ADJUVANT_WINDOW_MONTHS.*between 1 and 24"
    ):
        create_app(
            load_config(
                {"dev": True, "auth": "off", "database_url": f"sqlite:///{tmp_path / 's.db'}"},
                environ={"PNEN_CDS_DEFAULT_ADJUVANT_WINDOW_MONTHS": "120"},
            )
        )
