"""Rewrite the generated parts of the docs from the code: README tables (rules, settings,
local defaults, demo patients), docs/rules.md.

Usage: python scripts/update_readme.py [--check]   (--check: exit 1 if anything is stale)
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from cds_service.config import settings_table  # noqa: E402
from consensus.catalogue import rule_catalogue  # noqa: E402
from consensus.registry import rule_table  # noqa: E402
from consensus.rules import all_rules  # noqa: E402
from consensus.settings import defaults_table  # noqa: E402
from pnen_demo.patients import demo_patients  # noqa: E402
from scripts.generated_files import sync  # noqa: E402

README = ROOT / "README.md"
CATALOGUE = ROOT / "docs" / "rules.md"


def demo_table() -> str:
    """The demo patients: what each is, what it shows, and its cards on each hook."""
    lines = [
        "| patient id | record | shows | patient-view cards | order hooks (drafts → cards) |",
        "| --- | --- | --- | --- | --- |",
    ]
    for p in demo_patients():
        pv = ", ".join(f"`{r}`" for r in p.cards["patient-view"]) or "none"
        drafts = ", ".join(
            str(
                (d.get("code") or d.get("medicationCodeableConcept") or {}).get("text")
                or (d.get("code") or d.get("medicationCodeableConcept"))["coding"][0]["code"]
            )
            for d in p.drafts
        )
        orders = "—"
        if p.drafts:
            sign = ", ".join(f"`{r}`" for r in p.cards["order-sign"]) or "none"
            orders = f"{drafts} → {sign}"
        lines.append(f"| `{p.id}` | {p.name} | {p.shows} | {pv} | {orders} |")
    return "\n".join(lines)


def blocks() -> dict[str, str]:
    """Marker name → the generated Markdown that belongs between its markers."""
    return {
        "rules": rule_table(all_rules()),
        "configuration": settings_table(),
        "local-defaults": defaults_table(),
        "demo-patients": demo_table(),
    }


def render(text: str) -> str:
    """README text with every generated block replaced by its current content."""
    for name, content in blocks().items():
        pattern = re.compile(
            rf"(<!-- generated:{name} .*?-->\n)(.*?)(<!-- /generated:{name} -->)", re.DOTALL
        )
        if not pattern.search(text):
            raise SystemExit(f"README.md has no generated:{name} block")
        text = pattern.sub(lambda m, c=content: f"{m.group(1)}{c}\n{m.group(3)}", text)
    return text


def generated() -> dict[Path, str]:
    """Each generated file and the text it should have."""
    return {
        README: render(README.read_text(encoding="utf-8")),
        CATALOGUE: rule_catalogue(all_rules()),
    }


def main() -> int:
    """Update the generated files, or with --check report whether they are up to date."""
    return sync(generated(), ROOT, "readme", "--check" in sys.argv[1:])


if __name__ == "__main__":
    sys.exit(main())
