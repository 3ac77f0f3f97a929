"""What each rule checks and what its card says, in words, for the public rule pages."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import cache
from importlib import resources

from consensus.settings import LOCAL_DEFAULTS


@dataclass(frozen=True)
class RuleDescription:
    """A rule's trigger, its card's content and suggestions, and the local defaults it uses."""

    fires_when: str
    card: str
    local_defaults: tuple[str, ...]


@cache
def descriptions() -> dict[str, RuleDescription]:
    """Every rule's description by rule id (consensus/descriptions.toml), checked once."""
    raw = tomllib.loads(
        resources.files("consensus").joinpath("descriptions.toml").read_text(encoding="utf-8")
    )
    out: dict[str, RuleDescription] = {}
    for rule_id, entry in raw.items():
        names = tuple(str(n) for n in entry.get("local_defaults", ()))
        unknown = [n for n in names if n not in LOCAL_DEFAULTS]
        if unknown:
            raise ValueError(f"{rule_id}: unknown local default(s) {unknown}")
        out[rule_id] = RuleDescription(str(entry["fires_when"]), str(entry["card"]), names)
    return out
