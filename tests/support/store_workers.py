"""Code run in other processes by the store tests: concurrent start-up and a crash-test writer."""

from __future__ import annotations

import sys
from typing import Any

from cds_service.store import AuditEntry, FeedbackItem, Store


def open_and_write(url: str, barrier: Any, results: Any, number: int) -> None:
    """Wait for the others, open (and migrate) the store at once with them, write, report."""
    try:
        barrier.wait(timeout=60)
        store = Store.open(url)
        store.record_audit(
            AuditEntry(
                "pnen-patient-view", f"hook-{number}", None, [], [(f"c{number}", "r")], [], 1
            )
        )
        store.close()
        results.put((number, "ok"))
    except Exception as exc:  # reported to the test, which fails with the message
        results.put((number, f"{type(exc).__name__}: {exc}"))


def write_until_killed(url: str) -> None:
    """Record an audit entry and a feedback entry per loop; print each id once committed."""
    store = Store.open(url)
    number = 0
    while True:
        card = f"durable-{number}"
        store.record_audit(
            AuditEntry("pnen-patient-view", card, "Patient/p1", ["r"], [(card, "r")], [], 1.0)
        )
        stored = store.record_feedback(
            "pnen-patient-view",
            [FeedbackItem(card, "overridden", f"2024-01-01T00:00:{number % 60:02d}.000000Z")],
        )
        assert stored == 1
        sys.stdout.write(f"{card}\n")
        sys.stdout.flush()
        number += 1


if __name__ == "__main__":
    write_until_killed(sys.argv[1])
