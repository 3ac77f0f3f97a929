"""Generated files kept in the repository: write them, or check that they are current."""

from __future__ import annotations

import sys
from collections.abc import Mapping
from pathlib import Path


def sync(files: Mapping[Path, str], root: Path, make_target: str, check: bool) -> int:
    """Write each file whose text differs, or with `check` report them; 1 when any is stale."""
    stale = []
    for path, wanted in files.items():
        current = path.read_text(encoding="utf-8") if path.is_file() else ""
        if wanted == current:
            continue
        if check:
            stale.append(path.relative_to(root).as_posix())
        else:
            path.write_text(wanted, encoding="utf-8")
    if stale:
        print(f"stale: {', '.join(stale)}: run `make {make_target}`", file=sys.stderr)
        return 1
    return 0
