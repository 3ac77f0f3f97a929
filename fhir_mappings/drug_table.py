"""The shipped RxNorm clinical-drug table: SCD/SBD codes → the ingredient the rules read."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

TABLE = "rxnorm-clinical-drugs.json"


@dataclass(frozen=True)
class ClinicalDrug:
    """One RxNorm clinical drug: its name and its ingredient (RxNorm IN code and name)."""

    code: str
    name: str
    ingredient: str
    ingredient_name: str


def parse_table(data: Any) -> dict[str, ClinicalDrug]:
    """Clinical drugs by RxNorm code, from the table's JSON (ValueError when malformed)."""
    if not isinstance(data, dict):
        raise ValueError(f"{TABLE}: expected an object")
    names = data.get("ingredients")
    drugs = data.get("drugs")
    if not isinstance(names, dict) or not isinstance(drugs, list):
        raise ValueError(f"{TABLE}: needs 'ingredients' (object) and 'drugs' (list)")
    table: dict[str, ClinicalDrug] = {}
    for i, row in enumerate(drugs):
        code = row.get("code") if isinstance(row, dict) else None
        ingredient = row.get("ingredient") if isinstance(row, dict) else None
        if not isinstance(code, str) or not isinstance(ingredient, str) or ingredient not in names:
            raise ValueError(f"{TABLE}: drugs[{i}]: needs a code and a listed ingredient")
        name = str(row.get("name", ""))
        table[code] = ClinicalDrug(code, name, ingredient, str(names[ingredient]))
    return table


@cache
def clinical_drugs() -> dict[str, ClinicalDrug]:
    """The shipped table, read once per process."""
    text = (resources.files("fhir_mappings") / "tables" / TABLE).read_text(encoding="utf-8")
    return parse_table(json.loads(text))
