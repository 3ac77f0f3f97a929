"""Compile the message catalogues (pnen_i18n/locale/*/LC_MESSAGES/messages.po → .mo).

`make messages` runs this instead of `pybabel compile`: Babel's compiler checks %-style
placeholders, and reads English such as "a PP rise > 50 % correlated" as the conversion "% c",
so it refuses correct translations. The catalogues use brace placeholders (`{name}`), checked here
(and by tests/i18n) with the rule in `pnen_i18n.placeholders`; the .mo is Babel's own `write_mo`.
"""

from __future__ import annotations

import sys
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from pnen_i18n import LOCALE_DIR
from pnen_i18n.placeholders import mismatched


def main() -> int:
    """Compile every catalogue; 1 (nothing written) when a translation breaks a placeholder."""
    problems = []
    for po in sorted(LOCALE_DIR.glob("*/LC_MESSAGES/messages.po")):
        with po.open("rb") as handle:
            catalog = read_po(handle, locale=po.parts[-3])
        for message in catalog:
            if not message.id:
                continue
            ids = [message.id] if isinstance(message.id, str) else list(message.id)
            texts = [message.string] if isinstance(message.string, str) else list(message.string)
            problems += [f"{po}: {ids[0]!r} → {t!r}" for t in mismatched(ids, texts)]
        if not problems:
            with Path(po.with_suffix(".mo")).open("wb") as out:
                write_mo(out, catalog)
    for problem in problems:
        print(f"placeholders differ: {problem}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
