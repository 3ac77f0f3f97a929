"""The README's rule and local-default tables are generated from the code and kept current."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent


def _generator() -> object:
    spec = importlib.util.spec_from_file_location(
        "update_readme", ROOT / "scripts/update_readme.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_readme_tables_match_the_rule_definitions_and_settings() -> None:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    assert _generator().render(text) == text, "README.md is stale: run `make readme`"  # type: ignore[attr-defined]


def test_the_rule_catalogue_in_docs_matches_the_rule_definitions() -> None:
    text = (ROOT / "docs" / "rules.md").read_text(encoding="utf-8")
    from consensus.catalogue import rule_catalogue
    from consensus.rules import all_rules

    assert rule_catalogue(all_rules()) == text, "docs/rules.md is stale: run `make readme`"
    for rule in all_rules():
        assert f"### `{rule.info.id}`: {rule.info.title}" in text


def test_the_readme_lists_every_rule_of_the_specification_once() -> None:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    text = text[text.index("<!-- generated:rules") : text.index("<!-- /generated:rules")]
    listed = re.findall(r"^\| `([a-z0-9-]+)` \| ", text, re.MULTILINE)
    from consensus.rules import all_rules

    assert sorted(listed) == sorted(r.info.id for r in all_rules())


def test_every_setting_is_documented_in_the_configuration_table() -> None:
    from dataclasses import fields

    from cds_service.config import SETTING_DOCS, Config

    documented = set(SETTING_DOCS)
    settings = {f.name for f in fields(Config)} - {"local_defaults"}
    assert settings == documented, "document every setting in cds_service/config.py SETTING_DOCS"
