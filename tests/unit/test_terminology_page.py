"""docs/terminology.md is generated from the shipped ValueSets and tables and kept current."""

from __future__ import annotations

import importlib.util
import json
import re
import shutil
from pathlib import Path
from typing import Any

from fhir_mappings.drug_table import clinical_drugs
from fhir_mappings.terminology import load_terminology

ROOT = Path(__file__).resolve().parent.parent.parent


def _generator() -> Any:
    spec = importlib.util.spec_from_file_location(
        "terminology_page", ROOT / "scripts/terminology_page.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_terminology_page_matches_the_shipped_valuesets_and_tables() -> None:
    page = (ROOT / "docs/terminology.md").read_text(encoding="utf-8")
    assert _generator().render() == page, "docs/terminology.md is stale: run `make terminology`"


def test_the_page_lists_every_shipped_valueset_once_and_every_tabled_drug() -> None:
    page = (ROOT / "docs/terminology.md").read_text(encoding="utf-8")
    sections = re.findall(r"^### `([^`]+)` — ", page, re.MULTILINE)
    assert sorted(sections) == sorted(load_terminology().concepts)
    for code in clinical_drugs():
        assert f"| `{code}` |" in page
    assert "| `http://www.ama-assn.org/go/cpt` | `48120` |" in page
    assert "`lutetium`" in page  # a therapeutic-radionuclide word, listed with its rule


def test_a_new_valueset_file_of_any_name_and_shape_gets_its_section(tmp_path: Path) -> None:
    folder = tmp_path / "valuesets"
    shutil.copytree(ROOT / "fhir_mappings/valuesets", folder)
    (folder / "zz-site-thing.json").write_text(
        json.dumps(
            {
                "resourceType": "ValueSet",
                "url": "http://pnen-cds.org/fhir/ValueSet/new-concept",
                "compose": {"include": [{"system": "urn:local", "concept": [{"code": "X|1"}]}]},
            }
        )
    )
    (folder / "notes.json").write_text(json.dumps({"resourceType": "Basic"}))
    (folder / "tmz-more.json").write_text(
        json.dumps(
            {
                "resourceType": "ValueSet",
                "id": "tmz",
                "compose": {"include": [{"system": "urn:local", "concept": [{"code": "TMZ9"}]}]},
            }
        )
    )
    page = _generator().render(folder, ROOT / "fhir_mappings/tables")
    assert "### `new-concept` — new-concept" in page
    assert "| `urn:local` | `X\\|1` |  |" in page
    assert "| `urn:local` | 2 | `new-concept`, `tmz` |" in page
    assert "Basic" not in page
    assert page.count("### `tmz` — ") == 1 and "| `urn:local` | `TMZ9` |  |" in page
