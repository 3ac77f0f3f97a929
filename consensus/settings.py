"""Local defaults: numbers the sources leave open (consensus-rules.md, "Local defaults")."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field


@dataclass(frozen=True)
class LocalDefault:
    """A configurable number, its unit and what it decides."""

    value: float
    unit: str
    meaning: str


LOCAL_DEFAULTS: Mapping[str, LocalDefault] = {
    "staging-imaging-window-days": LocalDefault(
        90, "days", "imaging window before the pNEN-LM diagnosis for staging"
    ),
    "rapid-progression-months": LocalDefault(
        6, "months", "'rapid' progression after starting therapy"
    ),
    "recent-marker-days": LocalDefault(90, "days", "a recent CgA or gastrin result"),
    "contrast-egfr-threshold": LocalDefault(30, "mL/min/1.73 m²", "contrast caution below eGFR"),
    "sstr2-ihc-positive-score": LocalDefault(2, "+", "SSTR2 IHC score counted as positive"),
    "tmb-high": LocalDefault(10, "mutations/Mb", "TMB-high from"),
    "pdl1-cps-positive": LocalDefault(1, "", "PD-L1 CPS positive from"),
    "followup-high-risk-months": LocalDefault(6, "months", "high-risk follow-up imaging interval"),
    "stale-guiding-study-months": LocalDefault(
        6, "months", "a study guiding a procedure is stale when older than"
    ),
}


class UnknownSettingError(KeyError):
    """A configured local default has a name the service does not know."""


@dataclass(frozen=True)
class Settings:
    """The local defaults in force, with site overrides applied."""

    overrides: Mapping[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        unknown = sorted(set(self.overrides) - set(LOCAL_DEFAULTS))
        if unknown:
            raise UnknownSettingError(f"unknown local default(s): {', '.join(unknown)}")

    def value(self, name: str) -> float:
        """The number in force for a local default."""
        return float(self.overrides.get(name, LOCAL_DEFAULTS[name].value))

    def describe(self, name: str) -> str:
        """'imaging window … : 90 days (local policy)' for the card."""
        default = LOCAL_DEFAULTS[name]
        number = f"{self.value(name):g}"
        unit = f" {default.unit}" if default.unit and default.unit != "+" else default.unit
        return f"{default.meaning}: {number}{unit} (local policy, configurable)"


def defaults_table() -> str:
    """A Markdown table of the local defaults: name, value, what it decides, how to override."""
    lines = [
        "| local default | value | decides | environment variable |",
        "| --- | --- | --- | --- |",
    ]
    for name, default in LOCAL_DEFAULTS.items():
        unit = "" if default.unit in ("", "+") else f" {default.unit}"
        value = f"{default.value:g}{'+' if default.unit == '+' else unit}"
        variable = "PNEN_CDS_DEFAULT_" + name.upper().replace("-", "_")
        lines.append(f"| `{name}` | {value} | {default.meaning} | `{variable}` |")
    return "\n".join(lines)
