"""Rule modules, one per area of consensus-rules.md; importing them registers the rules."""

from __future__ import annotations

import importlib

from consensus.registry import Rule, registered

MODULES = (
    "summary",
    "imaging",
    "pathology",
    "molecular",
    "surgery",
    "systemic",
    "biomarkers",
    "follow_up",
)


def all_rules() -> tuple[Rule, ...]:
    """Every rule of every area module, by id."""
    for name in MODULES:
        try:
            importlib.import_module(f"consensus.rules.{name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"consensus.rules.{name}":
                raise
    return registered()
