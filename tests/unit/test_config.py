"""Configuration: defaults < TOML file < environment < overrides; local clinical defaults."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cds_service import create_app
from cds_service.config import ConfigError, load_config
from consensus.settings import LOCAL_DEFAULTS
from tests.cds_schema import assert_valid_response
from tests.fhir_builders import (
    ATC,
    LOINC,
    base_pnen_lm,
    days_ago,
    medication,
    observation,
)
from tests.support.cds_requests import hook_request, prefetch_for


def test_defaults_apply_without_environment() -> None:
    config = load_config(environ={})
    assert config.public_url == "http://127.0.0.1:8080"
    assert config.auth_enabled and config.local_defaults == {}
    assert config.database_url == "sqlite:///pnen-cds.sqlite3"


def test_environment_overrides_a_toml_file(tmp_path: Path) -> None:
    toml = tmp_path / "pnen.toml"
    toml.write_text(
        'public_url = "https://from-file.example"\nfhir_timeout = 2\n'
        "[local_defaults]\nrecent-marker-days = 30\n"
    )
    env = {
        "PNEN_CDS_CONFIG": str(toml),
        "PNEN_CDS_FHIR_TIMEOUT": "7.5",
        "PNEN_CDS_DEFAULT_TMB_HIGH": "12",
    }
    config = load_config(environ=env)
    assert config.public_url == "https://from-file.example"
    assert config.fhir_timeout == 7.5
    assert config.local_defaults == {"recent-marker-days": 30, "tmb-high": 12.0}


@pytest.mark.parametrize("name", sorted(LOCAL_DEFAULTS))
def test_every_local_default_is_settable_by_its_documented_variable(name: str) -> None:
    variable = "PNEN_CDS_DEFAULT_" + name.upper().replace("-", "_")
    allowed = LOCAL_DEFAULTS[name].maximum or 42
    assert load_config(environ={variable: f"{allowed:g}"}).local_defaults == {name: allowed}


def test_an_unknown_local_default_fails_at_start_up(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="PNEN_CDS_DEFAULT_RECENT_MARKERS_DAYS.*recent-markers"):
        create_app(
            load_config(
                {"dev": True, "auth": "off", "database_url": f"sqlite:///{tmp_path / 's.db'}"},
                environ={"PNEN_CDS_DEFAULT_RECENT_MARKERS_DAYS": "60"},
            )
        )


def _cga_on_ppi(days: int) -> list[dict[str, object]]:
    return [
        *base_pnen_lm(),
        medication((ATC, "A02BC01"), start=days_ago(400)),
        observation(
            (LOINC, "9811-1"),
            when=days_ago(days),
            valueQuantity={"value": 250, "unit": "ng/mL"},
        ),
    ]


@pytest.mark.parametrize(("setting", "fires"), [(None, True), ("60", False), ("75", True)])
def test_a_configured_local_default_changes_the_card_and_is_labelled(
    tmp_path: Path, setting: str | None, fires: bool
) -> None:
    env = {"PNEN_CDS_DEFAULT_RECENT_MARKER_DAYS": setting} if setting else {}
    app = create_app(
        load_config(
            {"dev": True, "auth": "off", "database_url": f"sqlite:///{tmp_path / 's.db'}"},
            environ=env,
        )
    )
    client = app.test_client()
    keys = list(client.get("/cds-services").get_json()["services"][0]["prefetch"])
    record = _cga_on_ppi(70)  # a CgA 70 days old: recent by the default 90 days, not by 60
    body = hook_request("patient-view", "test-patient", prefetch=prefetch_for(record, keys))
    response = client.post("/cds-services/pnen-patient-view", json=body).get_json()
    assert_valid_response(response)
    cards = {c["source"]["topic"]["code"]: c for c in response["cards"]}
    assert ("cga-confounded" in cards) is fires
    if fires:
        days = setting or "90"
        assert f"{days} days (local policy, configurable)" in cards["cga-confounded"]["detail"]
    app.extensions["pnen_cds"].store.close()


def test_the_discovery_prefetch_is_unchanged_by_local_defaults(tmp_path: Path) -> None:
    bodies = []
    for env in ({}, {"PNEN_CDS_DEFAULT_TMB_HIGH": "20"}):
        app = create_app(
            load_config(
                {"dev": True, "auth": "off", "database_url": f"sqlite:///{tmp_path / 's.db'}"},
                environ=env,
            )
        )
        bodies.append(json.dumps(app.test_client().get("/cds-services").get_json()))
        app.extensions["pnen_cds"].store.close()
    assert bodies[0] == bodies[1]
