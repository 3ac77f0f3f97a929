"""The public rule pages: /rules/ and /rules/{id}, generated from the rules, with no token."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask.testing import FlaskClient

from cds_service import create_app
from consensus.descriptions import descriptions
from consensus.rules import all_rules
from tests.support.cds_requests import hook_request, prefetch_for

RULE_IDS = [r.info.id for r in all_rules()]


def test_every_registered_rule_has_a_description_and_nothing_else_does() -> None:
    assert set(descriptions()) == set(RULE_IDS)


def test_rule_index_lists_every_rule_with_a_link_to_its_page(client: FlaskClient) -> None:
    response = client.get("/rules/")
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    page = response.get_data(as_text=True)
    for rule_id in RULE_IDS:
        assert f'href="{rule_id}"' in page


@pytest.mark.parametrize("rule_id", RULE_IDS)
def test_rule_page_shows_title_hooks_trigger_card_and_source(
    client: FlaskClient, rule_id: str
) -> None:
    response = client.get(f"/rules/{rule_id}")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    info = next(r.info for r in all_rules() if r.info.id == rule_id)
    assert "Fires when" in page and "What the card says" in page
    for hook in info.hooks:
        assert hook in page
    assert info.citation in page


def test_rule_page_shows_the_local_default_in_force_with_a_site_override(tmp_path: Path) -> None:
    app = create_app(
        {
            "dev": True,
            "auth": "off",
            "database_url": f"sqlite:///{tmp_path / 's.sqlite3'}",
            "local_defaults": {"staging-imaging-window-days": 60},
        }
    )
    try:
        page = app.test_client().get("/rules/staging-imaging").get_data(as_text=True)
    finally:
        app.extensions["pnen_cds"].store.close()
    assert "staging: 60 days (local policy, configurable)" in page


def test_rule_pages_need_no_token_with_authentication_on(tmp_path: Path) -> None:
    app = create_app({"auth": "jwt", "database_url": f"sqlite:///{tmp_path / 's.sqlite3'}"})
    try:
        client = app.test_client()
        assert client.get("/rules/").status_code == 200
        assert client.get("/rules/pet-fdg").status_code == 200
        assert client.get("/cds-services").status_code == 401
    finally:
        app.extensions["pnen_cds"].store.close()


def test_unknown_rule_page_is_404(client: FlaskClient) -> None:
    assert client.get("/rules/no-such-rule").status_code == 404


def test_rule_text_is_escaped_and_rule_ids_link_to_their_pages(client: FlaskClient) -> None:
    page = client.get("/rules/ssa-first-line").get_data(as_text=True)
    assert "highest Ki-67 &lt; 10 %" in page
    page = client.get("/rules/liver-resectable-ned").get_data(as_text=True)
    assert '<a href="g3-net-surgery"><code>g3-net-surgery</code></a>' in page
    assert "**" not in page


def test_card_source_url_points_at_the_rule_page_by_default(
    client: FlaskClient, bench_pnen: dict[str, object], prefetch_keys: list[str]
) -> None:
    resources = [e["resource"] for e in bench_pnen["entry"]]  # type: ignore[index,union-attr]
    body = hook_request(
        "patient-view", "bench-pnen", prefetch=prefetch_for(resources, prefetch_keys)
    )
    cards = client.post("/cds-services/pnen-patient-view", json=body).get_json()["cards"]
    assert cards
    for card in cards:
        rule_id = card["source"]["topic"]["code"]
        assert card["source"]["url"] == f"http://127.0.0.1:8080/rules/{rule_id}"
        assert (
            client.get(card["source"]["url"].removeprefix("http://127.0.0.1:8080")).status_code
            == 200
        )
    summary = next(c for c in cards if c["source"]["topic"]["code"] == "summary")
    assert summary["links"] == [
        {
            "label": "Open the pNEN dashboard",
            "url": "http://127.0.0.1:8080/app/launch",
            "type": "smart",
        }
    ]


def test_empty_settings_turn_the_rule_url_and_the_smart_link_off(
    tmp_path: Path, bench_pnen: dict[str, object]
) -> None:
    app = create_app(
        {
            "dev": True,
            "auth": "off",
            "database_url": f"sqlite:///{tmp_path / 's.sqlite3'}",
            "rule_url_base": "",
            "smart_app_url": "",
        }
    )
    try:
        client = app.test_client()
        keys = list(client.get("/cds-services").get_json()["services"][0]["prefetch"])
        resources = [e["resource"] for e in bench_pnen["entry"]]  # type: ignore[index,union-attr]
        body = hook_request("patient-view", "bench-pnen", prefetch=prefetch_for(resources, keys))
        cards = client.post("/cds-services/pnen-patient-view", json=body).get_json()["cards"]
    finally:
        app.extensions["pnen_cds"].store.close()
    assert cards
    assert all("url" not in c["source"] and "links" not in c for c in cards)


def test_a_malformed_descriptions_file_stops_the_start_not_a_page_later(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A quote left inside a TOML string once made one rule page answer 500 (2026-11-27).
    import tomllib

    import cds_service

    def broken() -> None:
        raise tomllib.TOMLDecodeError("Expected newline or end of document (at line 157)")

    monkeypatch.setattr(cds_service, "descriptions", broken)
    with pytest.raises(tomllib.TOMLDecodeError):
        create_app(
            {"dev": True, "auth": "off", "database_url": f"sqlite:///{tmp_path / 's.sqlite3'}"}
        )
