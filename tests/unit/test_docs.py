"""The documentation is self-contained: every file it names is in the repository."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urlsplit

import pytest

ROOT = Path(__file__).resolve().parent.parent.parent
DOCS = sorted([ROOT / "README.md", *(ROOT / "docs").rglob("*.md")])
LINK = re.compile(r"\]\(([^)\s]+)\)")
NAMED_MD = re.compile(r"`?([\w./-]+\.md)\b")
# Public standards and references a link may leave the repository for.
PUBLIC = {
    "cds-hooks.hl7.org",
    "hl7.org",
    "build.fhir.org",
    "www.hl7.org",
    "loinc.org",
    "www.snomed.org",
    "www.nlm.nih.gov",
    "www.who.int",
    "www.whocc.no",
    "datatracker.ietf.org",
    "www.rfc-editor.org",
    "docs.gunicorn.org",
    "nginx.org",
}


def _resolves(doc: Path, target: str) -> bool:
    path = target.split("#", 1)[0]
    if not path:
        return True
    return any(
        (base / path).exists() for base in (doc.parent, ROOT, ROOT / "docs", ROOT / "docs" / "spec")
    )


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_every_link_stays_in_the_repository_or_goes_to_a_public_standard(doc: Path) -> None:
    text = doc.read_text(encoding="utf-8")
    for target in LINK.findall(text):
        if target.startswith(("http://", "https://")):
            host = urlsplit(target).hostname or ""
            assert host in PUBLIC, f"{doc.name}: link outside the repository: {target}"
        else:
            assert _resolves(doc, target), f"{doc.name}: link to a missing file: {target}"


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_every_document_a_page_names_is_in_the_repository(doc: Path) -> None:
    text = doc.read_text(encoding="utf-8")
    for name in NAMED_MD.findall(text):
        if name.startswith(("http", "//")) or "/" in name and name.startswith("."):
            continue
        assert _resolves(doc, name), f"{doc.name} names {name}, which is not in the repository"
    assert "shared/spec" not in text and "../shared" not in text
