"""Local defaults: numbers the sources leave open (consensus-rules.md, "Local defaults")."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from pnen_i18n import N_, _


@dataclass(frozen=True)
class LocalDefault:
    """A configurable number, its unit, what it decides and the values a site may choose.

    `meaning` is a catalogue message (marked `N_`), translated where a card shows it.
    """

    value: float
    unit: str
    meaning: str
    minimum: float = 0
    maximum: float | None = None
    whole: bool = True  # counts of days, months or points on a score: whole numbers only

    def problem(self, value: float) -> str | None:
        """Why `value` cannot be used, or None when it can."""
        if value != value or value in (float("inf"), float("-inf")):
            return "must be a finite number"
        if self.whole and value != int(value):
            return "must be a whole number"
        if value < self.minimum or (self.maximum is not None and value > self.maximum):
            top = f"{self.maximum:g}" if self.maximum is not None else "any"
            return f"must be between {self.minimum:g} and {top}"
        return None


# How a card writes a local default's number in each unit: the unit comes from the message.
QUANTITIES: Mapping[str, str] = {
    "days": N_("{value} days"),
    "months": N_("{value} months"),
    "mL/min/1.73 m²": N_("{value} mL/min/1.73 m²"),
    "+": N_("{value}+"),
    "mutations/Mb": N_("{value} mutations/Mb"),
    "": N_("{value}"),
}

LOCAL_DEFAULTS: Mapping[str, LocalDefault] = {
    "staging-imaging-window-days": LocalDefault(
        90,
        "days",
        N_("imaging window before the pNEN-LM diagnosis for staging"),
        0,
        365,
    ),
    "rapid-progression-months": LocalDefault(
        6, "months", N_("'rapid' progression after starting therapy"), 1, 24
    ),
    "recent-marker-days": LocalDefault(90, "days", N_("a recent CgA or gastrin result"), 1, 365),
    "contrast-egfr-threshold": LocalDefault(
        30, "mL/min/1.73 m²", N_("contrast caution below eGFR"), 10, 60, whole=False
    ),
    "sstr2-ihc-positive-score": LocalDefault(
        2, "+", N_("SSTR2 IHC score counted as positive"), 1, 3
    ),
    "tmb-high": LocalDefault(10, "mutations/Mb", N_("TMB-high from"), 1, 100, whole=False),
    "pdl1-cps-positive": LocalDefault(1, "", N_("PD-L1 CPS positive from"), 1, 100, whole=False),
    "followup-high-risk-months": LocalDefault(
        6, "months", N_("high-risk follow-up imaging interval"), 1, 12
    ),
    "adjuvant-window-months": LocalDefault(
        6, "months", N_("adjuvant window after a curative-intent resection"), 1, 24
    ),
    "stale-study-months": LocalDefault(
        6, "months", N_("age beyond which a study guiding a procedure is stale"), 1, 36
    ),
}


class UnknownSettingError(KeyError):
    """A configured local default has a name the service does not know."""


class SettingValueError(ValueError):
    """A configured local default has a value outside what the service allows."""


def check_local_defaults(overrides: Mapping[str, float]) -> None:
    """Raise for an unknown name or a value out of range, naming it and what is allowed."""
    unknown = sorted(set(overrides) - set(LOCAL_DEFAULTS))
    if unknown:
        raise UnknownSettingError(
            f"unknown local default(s): {', '.join(unknown)} "
            f"(known: {', '.join(sorted(LOCAL_DEFAULTS))})"
        )
    for name, value in overrides.items():
        problem = LOCAL_DEFAULTS[name].problem(value)
        if problem:
            raise SettingValueError(f"local default {name} = {value:g}: {problem}")


@dataclass(frozen=True)
class Settings:
    """The local defaults in force, with site overrides applied."""

    overrides: Mapping[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        check_local_defaults(self.overrides)

    def value(self, name: str) -> float:
        """The number in force for a local default."""
        return float(self.overrides.get(name, LOCAL_DEFAULTS[name].value))

    def describe(self, name: str) -> str:
        """'imaging window … : 90 days (local policy)' for the card."""
        default = LOCAL_DEFAULTS[name]
        return _(
            "{meaning}: {quantity} (local policy, configurable)",
            meaning=_(default.meaning),
            quantity=_(QUANTITIES[default.unit], value=format(self.value(name), "g")),
        )


def defaults_table() -> str:
    """A Markdown table of the local defaults: name, value, what it decides, how to override."""
    lines = [
        "| local default | value | decides | allowed | environment variable |",
        "| --- | --- | --- | --- | --- |",
    ]
    for name, default in LOCAL_DEFAULTS.items():
        unit = "" if default.unit in ("", "+") else f" {default.unit}"
        value = f"{default.value:g}{'+' if default.unit == '+' else unit}"
        variable = "PNEN_CDS_DEFAULT_" + name.upper().replace("-", "_")
        top = f"{default.maximum:g}" if default.maximum is not None else "…"
        allowed = f"{default.minimum:g}–{top}{'' if default.whole else ' (decimals allowed)'}"
        lines.append(f"| `{name}` | {value} | {default.meaning} | {allowed} | `{variable}` |")
    return "\n".join(lines)
