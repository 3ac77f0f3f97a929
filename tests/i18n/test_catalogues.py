"""The message catalogues: complete, consistent, compiled, and current with the code."""

from __future__ import annotations

import ast
import io
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog, Message
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from pnen_i18n import LOCALE_DIR, SUPPORTED_LOCALES
from pnen_i18n.placeholders import mismatched

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "pnen_i18n" / "messages.pot"
TRANSLATED = [loc for loc in SUPPORTED_LOCALES if loc != "en"]


def _po(locale: str) -> Path:
    return LOCALE_DIR / locale.replace("-", "_") / "LC_MESSAGES" / "messages.po"


def _read(path: Path, locale: str | None = None) -> Catalog:
    with path.open("rb") as handle:
        return read_po(handle, locale=locale)


def _ids(message: Message) -> tuple[str, ...]:
    return (message.id,) if isinstance(message.id, str) else tuple(message.id)


def _strings(message: Message) -> tuple[str, ...]:
    return (message.string,) if isinstance(message.string, str) else tuple(message.string)


def _messages(catalog: Catalog) -> Iterator[Message]:
    return (m for m in catalog if m.id)


def _extracted() -> set[str]:
    """Every message id the code and templates hold now, extracted as `make messages` does."""
    with (ROOT / "babel.cfg").open() as cfg:
        method_map, options_map = parse_mapping_cfg(cfg)
    found = set()
    for _file, _line, message, _comments, _context in extract_from_dir(
        str(ROOT), method_map, options_map
    ):
        found.add(message if isinstance(message, str) else message[0])
    return found


def _literal_messages() -> dict[str, str]:
    """Every string literal the code passes to `_()`, `N_()` or `ngettext()` → where.

    Read from the syntax tree, so a call nested in another call's arguments (which Babel's
    extractor skips) is found too.
    """
    found: dict[str, str] = {}
    for package in ("cds_service", "hooks", "cards", "consensus", "fhir_mappings", "pnen_i18n"):
        for path in sorted((ROOT / package).rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if (
                    isinstance(node, ast.Call)
                    and isinstance(node.func, ast.Name)
                    and node.func.id in ("_", "N_", "ngettext")
                    and node.args
                    and isinstance(node.args[0], ast.Constant)
                    and isinstance(node.args[0].value, str)
                ):
                    found.setdefault(node.args[0].value, f"{path.name}:{node.lineno}")
    return found


def test_every_literal_message_reaches_the_template() -> None:
    template = {_ids(m)[0] for m in _messages(_read(TEMPLATE))}
    missed = {where: m for m, where in _literal_messages().items() if m not in template}
    assert missed == {}, "hoist nested _() calls out of another call's arguments"


def test_the_template_holds_exactly_the_messages_in_the_code() -> None:
    template = {_ids(m)[0] for m in _messages(_read(TEMPLATE))}
    extracted = _extracted()
    assert not extracted - template, "run `make messages`: new messages not in the template"
    assert not template - extracted, "run `make messages`: the template has stale messages"


@pytest.mark.parametrize("locale", TRANSLATED)
def test_every_message_is_translated(locale: str) -> None:
    template = {_ids(m)[0] for m in _messages(_read(TEMPLATE))}
    catalog = _read(_po(locale), locale.replace("-", "_"))
    translated = {_ids(m)[0]: m for m in _messages(catalog)}
    assert sorted(template - set(translated)) == [], f"{locale}: messages missing"
    assert sorted(set(translated) - template) == [], f"{locale}: obsolete messages"
    untranslated = [i for i, m in translated.items() if not all(_strings(m))]
    assert untranslated == [], f"{locale}: messages without a translation"
    fuzzy = [i for i, m in translated.items() if m.fuzzy]
    assert fuzzy == [], f"{locale}: fuzzy (unreviewed) translations"


@pytest.mark.parametrize("locale", TRANSLATED)
def test_translations_keep_the_placeholders_of_their_message(locale: str) -> None:
    """Same `{names}` as the English message (a plural form may leave out the count `{n}`)."""
    wrong = [
        (_ids(message)[0], text)
        for message in _messages(_read(_po(locale), locale.replace("-", "_")))
        for text in mismatched(_ids(message), _strings(message))
    ]
    assert wrong == []


def test_a_changed_placeholder_is_caught() -> None:
    assert mismatched(["{value:g} % at {site}"], ["{site}：{value:g} %"]) == []
    assert mismatched(["{value} %"], ["{valeur} %"]) == ["{valeur} %"]
    assert mismatched(["{value} %"], ["%"]) == ["%"]
    assert mismatched(["{n} month", "{n} months"], ["个月"]) == []


@pytest.mark.parametrize("locale", TRANSLATED)
def test_the_compiled_catalogue_is_the_compilation_of_its_source(locale: str) -> None:
    """The .mo the service reads matches its .po (content, not file times: a clone has none)."""
    po = _po(locale)
    compiled = io.BytesIO()
    write_mo(compiled, _read(po, locale.replace("-", "_")))
    assert po.with_suffix(".mo").read_bytes() == compiled.getvalue(), "run `make messages`"


def _glossary() -> list[tuple[str, str]]:
    """(English, 中文) rows of docs/glossary-zh-CN.md."""
    rows = []
    for line in (ROOT / "docs" / "glossary-zh-CN.md").read_text(encoding="utf-8").splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 2 and cells[0] not in ("English", "---"):
            rows.append((cells[0], cells[1]))
    return rows


def test_every_glossary_term_is_used_by_the_catalogue() -> None:
    """The glossary lists the terms the cards use: each Chinese term occurs in a translation."""
    catalog = _read(_po("zh-CN"), "zh_CN")
    translated = "\n".join(s for m in _messages(catalog) for s in _strings(m))
    unused = []
    for english, chinese in _glossary():
        for term in re.split(r"；|/", chinese):
            core = term.split("（")[0].strip()
            if core and core not in translated:
                unused.append(f"{english}: {core}")
    assert len(_glossary()) > 40
    assert unused == []
