"""The SQL store on a SQLite file and, when PNEN_CDS_TEST_POSTGRES_URL is set, on PostgreSQL."""

from __future__ import annotations

import itertools
import json
import multiprocessing
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import insert, select, text

from cds_service.config import MAX_FEEDBACK_ENTRIES_LIMIT
from cds_service.store import (
    MIGRATIONS_DIR,
    UNLINKED,
    AuditEntry,
    FeedbackItem,
    PruneResult,
    Store,
    audit,
    card_issued,
    compact_references,
    expand_references,
    feedback,
    jti_seen,
    metadata,
)
from tests.support import store_workers
from tests.support.databases import BACKENDS, empty_database

ROOT = Path(__file__).resolve().parents[2]
SERVICE = "pnen-patient-view"
_SECONDS = itertools.count(0.001, 0.001)


@pytest.fixture(params=BACKENDS)
def url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database URL for an empty store: a new SQLite file, or a new PostgreSQL schema."""
    with empty_database(request.param, tmp_path) as database_url:
        yield database_url


@pytest.fixture
def store(url: str) -> Iterator[Store]:
    opened = Store.open(url)
    yield opened
    opened.close()


def entry(cards: list[tuple[str, str]], **extra: Any) -> AuditEntry:
    fields: dict[str, Any] = {
        "service": SERVICE,
        "hook_instance": "d1577c69-dfbe-44ad-ba6d-3e05e953b2ea",
        "patient_ref": "Patient/pnen-1",
        "rule_ids": sorted({rule for _, rule in cards}),
        "cards": cards,
        "resources_used": ["Observation/ki67/_history/3", "Condition/pnen"],
        "elapsed_ms": 4.25,
        **extra,
    }
    return AuditEntry(**fields)


def accepted(card: str, at: str = "2024-05-01T10:00:00Z") -> FeedbackItem:
    return FeedbackItem.from_json(
        {
            "card": card,
            "outcome": "accepted",
            "outcomeTimestamp": at,
            "acceptedSuggestions": [{"id": f"{card}-s1"}],
        }
    )


def overridden(card: str, code: str | None = None, display: str | None = None) -> FeedbackItem:
    body: dict[str, Any] = {
        "card": card,
        "outcome": "overridden",
        "outcomeTimestamp": f"2024-05-01T10:00:{next(_SECONDS):06.3f}Z",
    }
    if code:
        reason = {"system": "http://example.org/override", "code": code}
        if display:
            reason["display"] = display
        body["overrideReason"] = {"reason": reason, "userComment": "patient declined"}
    return FeedbackItem.from_json(body)


def rows(store: Store, table: Any) -> list[dict[str, Any]]:
    with store.engine.connect() as conn:
        return [dict(row._mapping) for row in conn.execute(select(table))]


# Audit


def test_records_an_audit_entry_with_its_cards(store: Store) -> None:
    store.record_audit(entry([("card-a", "pet-fdg"), ("card-b", "summary")]))
    (logged,) = rows(store, audit)
    assert logged["service"] == SERVICE
    assert logged["patient_ref"] == "Patient/pnen-1"
    assert json.loads(logged["rule_ids"]) == ["pet-fdg", "summary"]
    assert json.loads(logged["card_uuids"]) == ["card-a", "card-b"]
    assert json.loads(logged["resources_used"]) == {
        "Observation": ["ki67/_history/3"],
        "Condition": ["pnen"],
    }
    assert expand_references(logged["resources_used"]) == [
        "Observation/ki67/_history/3",
        "Condition/pnen",
    ]
    assert (logged["elapsed_ms"], logged["status"]) == (4.25, 200)
    issued = {r["card_uuid"]: (r["rule_id"], r["audit_id"]) for r in rows(store, card_issued)}
    assert issued == {"card-a": ("pet-fdg", logged["id"]), "card-b": ("summary", logged["id"])}


def test_audit_rows_written_before_references_were_grouped_still_read() -> None:
    assert expand_references('["Observation/a", "Condition/b/_history/2"]') == [
        "Observation/a",
        "Condition/b/_history/2",
    ]


def test_audit_rows_are_what_core_inserts_of_the_same_values_would_be(store: Store) -> None:
    at = datetime(2026, 3, 1, 8, 30, 15, 123456, tzinfo=UTC)
    store.record_audit(entry([("card-a", "pet-fdg"), ("card-b", "summary")], at=at, locale="zh-CN"))
    (ours,) = rows(store, audit)
    with store.engine.begin() as conn:
        values = {k: v for k, v in ours.items() if k != "id"}
        key = conn.execute(insert(audit), {**values, "at": at}).inserted_primary_key
        assert key is not None
        conn.execute(
            insert(card_issued),
            [
                {
                    "card_uuid": "core-card",
                    "rule_id": "pet-fdg",
                    "audit_id": key[0],
                    "service": SERVICE,
                }
            ],
        )
    by_id = {r["id"]: r for r in rows(store, audit)}
    assert {k: v for k, v in by_id[key[0]].items() if k != "id"} == values
    assert values["at"] in (at, at.replace(tzinfo=None))  # SQLite reads it back naive (UTC)
    assert (values["locale"], values["status"]) == ("zh-CN", 200)
    with store.engine.connect() as conn:  # the stored text itself, not only its reading
        raw = conn.execute(text("SELECT CAST(at AS TEXT) FROM audit ORDER BY id")).scalars().all()
    assert raw[0] == raw[1]
    cards = sorted(
        (r["card_uuid"], r["rule_id"], r["audit_id"], r["service"])
        for r in rows(store, card_issued)
    )
    assert cards == [
        ("card-a", "pet-fdg", ours["id"], SERVICE),
        ("card-b", "summary", ours["id"], SERVICE),
        ("core-card", "pet-fdg", key[0], SERVICE),
    ]


def test_audit_references_are_grouped_by_type_in_first_seen_order_each_once() -> None:
    refs = ["Patient/p", "Observation/a", "Condition/c", "Observation/b", "Observation/a"]
    assert compact_references(refs) == {
        "Patient": ["p"],
        "Observation": ["a", "b"],
        "Condition": ["c"],
    }
    assert list(compact_references(refs)) == ["Patient", "Observation", "Condition"]
    assert compact_references([]) == {}


def test_audit_json_columns_keep_any_text_as_json_dumps_writes_it(store: Store) -> None:
    # Control characters, quotes, a backslash, non-BMP and CJK text; a lone surrogate is replaced.
    odd = ["\x00\x01\x1f\x7f\u2028", '"q" \\ /', "😀 胰腺", "bad \ud800 half"]
    store.record_audit(entry([], rule_ids=odd[:3]))
    store.record_audit(entry([], rule_ids=odd))
    plain, with_surrogate = (
        r["rule_ids"] for r in sorted(rows(store, audit), key=lambda r: r["id"])
    )
    assert plain == json.dumps(odd[:3], separators=(",", ":"), ensure_ascii=False)
    expected = json.dumps(odd, separators=(",", ":"), ensure_ascii=False)
    assert with_surrogate == expected.replace("\ud800", "?")
    assert json.loads(with_surrogate) == [*odd[:3], "bad ? half"]


def test_pruning_removes_old_audit_rows_and_their_cards_and_keeps_feedback(store: Store) -> None:
    now = datetime.now(UTC)
    store.record_audit(entry([("old-card", "pet-fdg")], at=now - timedelta(days=400)))
    store.record_audit(entry([("edge-card", "pet-fdg")], at=now - timedelta(days=364)))
    store.record_audit(entry([("new-card", "summary")], at=now - timedelta(days=1)))
    store.record_feedback(SERVICE, [accepted("old-card")])
    result = store.prune_audit(now - timedelta(days=365), batch=1)
    assert (result.audit_rows, result.cards) == (1, 1)
    assert {r["card_uuid"] for r in rows(store, card_issued)} == {"edge-card", "new-card"}
    assert len(rows(store, audit)) == 2
    assert [r["card_uuid"] for r in rows(store, feedback)] == ["old-card"]
    report = {s.rule_id: s for s in store.feedback_report()}
    assert report[UNLINKED].accepted == 1  # feedback on a pruned card is kept, unlinked
    assert store.prune_audit(now - timedelta(days=365)) == PruneResult(0, 0)


def test_retention_prunes_in_the_background(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("cds_service.store.random.uniform", lambda a, b: 0.01)
    store.record_audit(entry([("old-card", "pet-fdg")], at=datetime.now(UTC) - timedelta(days=31)))
    store.record_audit(entry([("new-card", "pet-fdg")]))
    store.start_retention(30)
    deadline = time.monotonic() + 10
    while len(rows(store, audit)) > 1 and time.monotonic() < deadline:
        time.sleep(0.02)
    assert [r["card_uuid"] for r in rows(store, card_issued)] == ["new-card"]


def test_records_an_audit_entry_without_cards_or_patient(store: Store) -> None:
    store.record_audit(entry([], patient_ref=None, status=412))
    (logged,) = rows(store, audit)
    assert (logged["patient_ref"], logged["status"], logged["card_uuids"]) == (None, 412, "[]")
    assert rows(store, card_issued) == []


def test_audit_writes_from_many_threads_all_land(store: Store) -> None:
    def write(worker: int) -> None:
        for n in range(25):
            store.record_audit(entry([(f"t{worker}-{n}", "summary")]))

    threads = [threading.Thread(target=write, args=(w,)) for w in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(rows(store, audit)) == 150
    assert len(rows(store, card_issued)) == 150


# Feedback


def test_feedback_is_idempotent_on_card_outcome_and_timestamp(store: Store) -> None:
    assert store.record_feedback(SERVICE, [accepted("card-a")]) == 1
    assert store.record_feedback(SERVICE, [accepted("card-a")]) == 0
    # The same instant written another way is the same feedback.
    assert store.record_feedback(SERVICE, [accepted("card-a", "2024-05-01T12:00:00+02:00")]) == 0
    assert store.record_feedback(SERVICE, [accepted("card-a", "2024-05-01T10:00:01Z")]) == 1
    assert store.record_feedback(SERVICE, [accepted("card-b"), accepted("card-b")]) == 1
    assert len(rows(store, feedback)) == 3


def test_feedback_stores_every_field(store: Store) -> None:
    store.record_feedback(SERVICE, [overridden("card-x", "not-relevant", "Not relevant")])
    (stored,) = rows(store, feedback)
    assert stored["service"] == SERVICE
    assert stored["outcome"] == "overridden"
    assert stored["override_reason_code"] == "not-relevant"
    assert stored["override_reason_system"] == "http://example.org/override"
    assert stored["override_reason_display"] == "Not relevant"
    assert stored["user_comment"] == "patient declined"
    assert stored["accepted_suggestions"] == "[]"
    assert stored["received_at"] is not None


def test_feedback_on_an_unknown_card_is_stored_unlinked(store: Store) -> None:
    assert store.record_feedback(SERVICE, [accepted("never-issued")]) == 1
    (stats,) = store.feedback_report()
    assert (stats.rule_id, stats.cards_issued, stats.feedback, stats.accepted) == (
        UNLINKED,
        0,
        1,
        1,
    )


def test_as_many_feedback_entries_as_the_api_allows_in_one_call(store: Store) -> None:
    items = [accepted(f"bulk-{n}") for n in range(MAX_FEEDBACK_ENTRIES_LIMIT)]
    assert store.record_feedback(SERVICE, items) == MAX_FEEDBACK_ENTRIES_LIMIT
    assert store.record_feedback(SERVICE, items) == 0
    assert store.record_feedback(SERVICE, []) == 0


def test_report_gives_rates_and_override_reasons_per_rule(store: Store) -> None:
    store.record_audit(entry([("p1", "pet-fdg"), ("s1", "summary")]))
    store.record_audit(entry([("p2", "pet-fdg"), ("s2", "summary")]))
    store.record_audit(entry([("p3", "pet-fdg"), ("p4", "pet-fdg")]))
    store.record_feedback(
        SERVICE,
        [
            accepted("p1"),
            overridden("p2", "not-relevant", "Not relevant"),
            overridden("p3", "not-relevant", "Not relevant"),
            overridden("p4", "already-done"),
            overridden("s1"),
            overridden("orphan", "other"),
        ],
    )
    report = {s.rule_id: s for s in store.feedback_report()}
    assert list(report) == ["pet-fdg", "summary", UNLINKED]
    pet = report["pet-fdg"]
    assert (pet.cards_issued, pet.feedback, pet.accepted, pet.overridden) == (4, 4, 1, 3)
    assert (pet.acceptance_rate, pet.override_rate) == (0.25, 0.75)
    assert pet.override_reasons == (
        ("Not relevant", 2),
        ("http://example.org/override|already-done", 1),
    )
    summary = report["summary"]
    assert (summary.cards_issued, summary.feedback, summary.override_rate) == (2, 1, 1.0)
    assert summary.override_reasons == (("(no reason given)", 1),)
    assert report[UNLINKED].as_json() == {
        "ruleId": UNLINKED,
        "cardsIssued": 0,
        "feedback": 1,
        "accepted": 0,
        "overridden": 1,
        "acceptanceRate": 0.0,
        "overrideRate": 1.0,
        "overrideReasons": [{"reason": "http://example.org/override|other", "count": 1}],
    }


def test_report_of_an_empty_store_is_empty(store: Store) -> None:
    assert store.feedback_report() == []


@pytest.mark.parametrize(
    "body",
    [
        {"card": "c", "outcome": "accepted", "outcomeTimestamp": "2024-01-01T00:00:00Z"},
        {"card": "c", "outcome": "maybe", "outcomeTimestamp": "2024-01-01T00:00:00Z"},
        {"card": "", "outcome": "overridden", "outcomeTimestamp": "2024-01-01T00:00:00Z"},
        {"card": "c", "outcome": "overridden", "outcomeTimestamp": "2024-01-01"},
        {"card": "c", "outcome": "overridden", "outcomeTimestamp": "2024-01-01T00:00:00"},
        {"card": "c", "outcome": "overridden", "outcomeTimestamp": "yesterday"},
        {"card": "c", "outcome": "overridden"},
    ],
)
def test_malformed_feedback_entries_are_value_errors(body: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        FeedbackItem.from_json(body)


# Replay guard


def test_replay_guard_remembers_ids_until_they_expire(url: str) -> None:
    now = [time.time()]
    store = Store.open(url, clock=lambda: now[0])
    try:
        assert not store.seen("iss-a", "jti-1", now[0] + 60)
        assert store.seen("iss-a", "jti-1", now[0] + 60)
        assert not store.seen("iss-b", "jti-1", now[0] + 60)
        now[0] += 61
        assert not store.seen("iss-a", "jti-1", now[0] + 60)  # expired: may be used again
        assert store.seen("iss-a", "jti-1", now[0] + 60)
    finally:
        store.close()


def test_replay_guard_purges_expired_rows(url: str) -> None:
    now = [time.time()]
    store = Store.open(url, clock=lambda: now[0])
    try:
        for n in range(5):
            store.seen("iss", f"old-{n}", now[0] + 10)
        now[0] += 120
        store.seen("iss", "new", now[0] + 10)
        assert [r["jti"] for r in rows(store, jti_seen)] == ["new"]
    finally:
        store.close()


# Schema and migrations


def test_migrations_run_twice_harmlessly(url: str) -> None:
    Store.open(url).close()
    store = Store.open(url)
    store.migrate()
    store.record_audit(entry([("c", "r")]))
    head = ScriptDirectory(str(MIGRATIONS_DIR)).get_current_head()
    with store.engine.connect() as conn:
        assert MigrationContext.configure(conn).get_current_revision() == head
    store.close()


def test_the_migrations_create_exactly_the_tables_the_store_uses(store: Store) -> None:
    with store.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), metadata)
    assert diff == []


def test_concurrent_first_open_from_several_processes(url: str) -> None:
    context = multiprocessing.get_context("spawn")
    workers = 6
    barrier = context.Barrier(workers)
    results = context.Queue()
    processes = [
        context.Process(target=store_workers.open_and_write, args=(url, barrier, results, n))
        for n in range(workers)
    ]
    for process in processes:
        process.start()
    outcomes = dict(results.get(timeout=120) for _ in processes)
    for process in processes:
        process.join(timeout=30)
    assert outcomes == {n: "ok" for n in range(workers)}
    store = Store.open(url)
    assert len(rows(store, audit)) == workers
    store.close()


def test_a_forked_child_uses_its_own_connections(store: Store) -> None:
    store.record_audit(entry([("before-fork", "r")]))
    context = multiprocessing.get_context("fork")
    child = context.Process(target=store.record_audit, args=(entry([("in-child", "r")]),))
    child.start()
    child.join(timeout=60)
    assert child.exitcode == 0
    store.record_audit(entry([("after-fork", "r")]))
    assert {r["card_uuid"] for r in rows(store, card_issued)} == {
        "before-fork",
        "in-child",
        "after-fork",
    }


def test_ping_answers_for_a_reachable_database(store: Store) -> None:
    assert store.ping()


def test_ping_is_false_when_the_database_cannot_be_opened(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path / 'missing-dir' / 'store.sqlite3'}")
    assert not store.ping()
    store.close()


def test_rejects_a_database_it_does_not_support() -> None:
    with pytest.raises(ValueError):
        Store("mysql://localhost/pnen")


def test_plain_postgresql_urls_use_psycopg() -> None:
    assert Store("postgresql://u:secret@db/pnen").url == "postgresql+psycopg://u:***@db/pnen"


# Durability


@pytest.mark.slow
def test_everything_acknowledged_survives_a_kill(url: str) -> None:
    Store.open(url).close()
    writer = subprocess.Popen(
        [sys.executable, "-m", "tests.support.store_workers", url],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=subprocess.PIPE,
        text=True,
    )
    assert writer.stdout is not None
    acknowledged: list[str] = []
    try:
        while len(acknowledged) < 300:
            line = writer.stdout.readline()
            assert line, f"writer stopped early with {writer.poll()}"
            acknowledged.append(line.strip())
    finally:
        writer.send_signal(signal.SIGKILL)
        writer.wait(timeout=30)
        writer.stdout.close()
    assert writer.returncode == -signal.SIGKILL
    store = Store.open(url)
    stored_feedback = {r["card_uuid"] for r in rows(store, feedback)}
    stored_cards = {r["card_uuid"] for r in rows(store, card_issued)}
    store.close()
    assert set(acknowledged) <= stored_feedback
    assert set(acknowledged) <= stored_cards


# SQLite checkpoints


def test_sqlite_checkpoints_run_in_a_background_thread_not_in_requests(tmp_path: Path) -> None:
    def checkpointers() -> set[threading.Thread]:
        return {t for t in threading.enumerate() if t.name == "sqlite-checkpoint"}

    database = tmp_path / "store.sqlite3"
    before = checkpointers()
    store = Store.open(f"sqlite:///{database}")
    try:
        started = checkpointers() - before
        assert len(started) == 1
        for _ in range(100):
            store.record_audit(entry([("c", "summary")], hook_instance=f"h-{time.time_ns()}"))
        copied = database.stat().st_size
        deadline = time.monotonic() + 5
        while database.stat().st_size == copied and time.monotonic() < deadline:
            time.sleep(0.1)
        assert database.stat().st_size > copied, "the WAL was copied into the database file"
    finally:
        store.close()
    assert not any(t.is_alive() for t in started), "close() stops the thread"
