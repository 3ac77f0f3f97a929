"""Durable feedback, audit log and token-replay store (SQLAlchemy Core; SQLite or PostgreSQL)."""

from __future__ import annotations

import fcntl
import json
import logging
import os
import random
import threading
import time
import zlib
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from itertools import groupby, repeat
from operator import itemgetter
from pathlib import Path
from typing import Any, Final

import orjson
from alembic import command
from alembic.config import Config as AlembicConfig
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    bindparam,
    create_engine,
    delete,
    event,
    func,
    insert,
    select,
    text,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Dialect, Engine, make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError
from sqlalchemy.pool import StaticPool
from sqlalchemy.sql.dml import Insert

log = logging.getLogger(__name__)

__all__ = [
    "UNLINKED",
    "AuditEntry",
    "FeedbackItem",
    "PruneResult",
    "RuleFeedbackStats",
    "Store",
    "compact_references",
    "shown_url",
    "expand_references",
    "metadata",
]

MIGRATIONS_DIR: Final[Path] = Path(__file__).with_name("migrations")
UNLINKED: Final[str] = "(unlinked)"
NO_REASON: Final[str] = "(no reason given)"
OUTCOMES: Final[frozenset[str]] = frozenset({"accepted", "overridden"})
MAX_ID_CHARS: Final[int] = 255
_PURGE_EVERY_S: Final[float] = 60.0
_PRUNE_BATCH: Final[int] = 1000
# pg_advisory_lock key: any constant bigint unique to this application.
_PG_MIGRATION_LOCK: Final[int] = zlib.crc32(b"pnen-cds migrations")
# INSERT row counts are only kept when asked for (SQLAlchemy 2.1 with psycopg).
_KEEP_ROWCOUNT: Final[Mapping[str, Any]] = {"preserve_rowcount": True}
_ID = BigInteger().with_variant(Integer(), "sqlite")
_KIND, _REST = itemgetter(0), itemgetter(2)  # of "Type/id".partition("/")

metadata = MetaData()
# Mirror of migrations/versions (a test checks that both agree).
audit = Table(
    "audit",
    metadata,
    Column("id", _ID, primary_key=True, autoincrement=True),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("service", String(64), nullable=False),
    Column("hook_instance", Text(), nullable=False),
    Column("patient_ref", Text(), nullable=True),
    Column("rule_ids", Text(), nullable=False),
    Column("card_uuids", Text(), nullable=False),
    Column("resources_used", Text(), nullable=False),
    Column("elapsed_ms", Float(), nullable=False),
    Column("status", Integer(), nullable=False),
    Column("locale", String(16), nullable=False, server_default="en"),
    Index("ix_audit_at", "at"),
)
card_issued = Table(
    "card_issued",
    metadata,
    Column("card_uuid", String(128), primary_key=True),
    Column("rule_id", String(128), nullable=False),
    Column("audit_id", _ID, ForeignKey("audit.id"), nullable=False),
    Column("service", String(64), nullable=False),
    Index("ix_card_issued_rule_id", "rule_id"),
)
feedback = Table(
    "feedback",
    metadata,
    Column("id", _ID, primary_key=True, autoincrement=True),
    Column("service", String(64), nullable=False),
    Column("card_uuid", Text(), nullable=False),
    Column("outcome", String(16), nullable=False),
    Column("outcome_timestamp", String(40), nullable=False),
    Column("accepted_suggestions", Text(), nullable=False),
    Column("override_reason_code", Text(), nullable=True),
    Column("override_reason_system", Text(), nullable=True),
    Column("override_reason_display", Text(), nullable=True),
    Column("user_comment", Text(), nullable=True),
    Column("received_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint(
        "card_uuid", "outcome", "outcome_timestamp", name="uq_feedback_card_outcome_time"
    ),
)
jti_seen = Table(
    "jti_seen",
    metadata,
    Column("iss", Text(), primary_key=True),
    Column("jti", String(255), primary_key=True),
    Column("exp", Float(), nullable=False),
    Index("ix_jti_seen_exp", "exp"),
)


def _text(value: str) -> str:
    """Text every database keeps: NUL (PostgreSQL refuses it) and lone surrogates replaced."""
    value = value.replace("\x00", "\ufffd")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        value = value.encode("utf-8", "replace").decode("utf-8")
    return value


def _json(value: Any) -> str:
    """Compact JSON text of strings, lists and dicts, as json.dumps(ensure_ascii=False) gives."""
    try:
        # orjson writes the same text (every code point checked) at a fraction of the cost; its
        # output is valid UTF-8 without NUL, so `_text` has nothing to replace.
        return orjson.dumps(value).decode()
    except TypeError:  # a lone surrogate, which orjson refuses: json.dumps keeps it for `_text`
        return _text(json.dumps(value, separators=(",", ":"), ensure_ascii=False))


def _utc_now() -> datetime:
    return datetime.now(UTC)


def shown_url(database_url: str) -> str:
    """A database URL as logs and messages may show it: the password hidden (as given if bad)."""
    try:
        return make_url(database_url).render_as_string(hide_password=True)
    except ArgumentError:
        return database_url


def compact_references(refs: Sequence[str]) -> dict[str, list[str]]:
    """References grouped by resource type, each once: {"Observation": ["k1/_history/3", ...]}.

    The audit keeps every resource a call used; grouping writes each type name once instead of
    once per reference (the benchmark patient: 2.5 KB → 1.4 KB per row).
    """
    grouped: dict[str, list[str]] = {}
    # A call's references come in runs of one type: one Python step per run, not per reference.
    parts = map(str.partition, dict.fromkeys(refs), repeat("/"))
    for kind, run in groupby(parts, _KIND):
        rests = grouped.get(kind)
        if rests is None:
            rests = grouped[kind] = []
        rests.extend(map(_REST, run))
    return grouped


def expand_references(stored: str) -> list[str]:
    """The `Type/id[/_history/v]` references of an audit row (either stored form)."""
    value = json.loads(stored)
    if isinstance(value, list):  # rows written before references were grouped
        return [str(ref) for ref in value]
    return [f"{kind}/{rest}" for kind, rests in value.items() for rest in rests]


_AUDIT_KEYS: Final[tuple[str, ...]] = (
    "at",
    "service",
    "hook_instance",
    "patient_ref",
    "rule_ids",
    "card_uuids",
    "resources_used",
    "elapsed_ms",
    "status",
    "locale",
)
_CARD_KEYS: Final[tuple[str, ...]] = ("card_uuid", "rule_id", "audit_id", "service")


class _PreparedInsert:
    """An INSERT compiled once for a dialect, run as driver SQL with Core's bind processing.

    Core's execute() spends about 0.25 M instructions a statement on its compiled cache and
    parameter handling; every hook call writes two audit statements. exec_driver_sql keeps
    Core's transaction, error wrapping and disconnect handling.
    """

    def __init__(
        self, statement: Insert, table: Table, keys: Sequence[str], dialect: Dialect
    ) -> None:
        compiled = statement.compile(dialect=dialect, column_keys=list(keys))
        self.sql = compiled.string
        self.returning = bool(compiled.effective_returning)
        # Positional paramstyles (SQLite's qmark) take values in the compiled order.
        self._order = tuple(compiled.positiontup or ()) if compiled.positional else None
        self._processors = {
            key: processor
            for key in keys
            if (processor := table.c[key].type.dialect_impl(dialect).bind_processor(dialect))
        }

    def params(self, row: dict[str, Any]) -> tuple[Any, ...] | dict[str, Any]:
        """The values of one row as the driver takes them (`row` is converted in place)."""
        for key, processor in self._processors.items():
            row[key] = processor(row[key])
        if self._order is None:
            return row
        return tuple(row[name] for name in self._order)


@dataclass(frozen=True)
class _AuditInserts:
    audit: _PreparedInsert
    cards: _PreparedInsert


@dataclass(frozen=True)
class PruneResult:
    """What one pruning removed: audit rows and the card rows that belonged to them."""

    audit_rows: int
    cards: int


@dataclass(frozen=True)
class AuditEntry:
    """One audited hook call: never resource contents or tokens, only references and ids."""

    service: str
    hook_instance: str
    patient_ref: str | None
    rule_ids: Sequence[str]
    cards: Sequence[tuple[str, str]]  # (card uuid, rule id)
    resources_used: Sequence[str]  # "Type/id" or "Type/id/_history/version"
    elapsed_ms: float
    status: int = 200
    locale: str = "en"  # the language of the cards (Accept-Language or the configured default)
    at: datetime = field(default_factory=_utc_now)


def _optional_string(value: Any, path: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise ValueError(f"{path}: expected a string")
    return _text(value) or None


def _timestamp(value: Any) -> str:
    """An RFC 3339 date-time as canonical UTC text (so that equal instants compare equal)."""
    if not isinstance(value, str) or "T" not in value.upper():
        raise ValueError("outcomeTimestamp: expected an RFC 3339 date-time")
    try:
        parsed = datetime.fromisoformat(value.upper().replace("Z", "+00:00"))
    except ValueError as exc:
        raise ValueError(f"outcomeTimestamp: {exc}") from exc
    if parsed.tzinfo is None:
        raise ValueError("outcomeTimestamp: needs a time zone")
    return parsed.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@dataclass(frozen=True)
class FeedbackItem:
    """One CDS Hooks feedback entry (outcome timestamp normalised to UTC)."""

    card_uuid: str
    outcome: str
    outcome_timestamp: str
    accepted_suggestions: tuple[str, ...] = ()
    override_reason_code: str | None = None
    override_reason_system: str | None = None
    override_reason_display: str | None = None
    user_comment: str | None = None

    @classmethod
    def from_json(cls, entry: Mapping[str, Any]) -> FeedbackItem:
        """A feedback entry of a (schema-valid) request body; ValueError naming a bad field."""
        card = entry.get("card")
        if not isinstance(card, str) or not 0 < len(card) <= MAX_ID_CHARS or not card.isprintable():
            raise ValueError(
                f"card: expected a card uuid (1 to {MAX_ID_CHARS} printable characters)"
            )
        outcome = entry.get("outcome")
        if outcome not in OUTCOMES:
            raise ValueError("outcome: expected 'accepted' or 'overridden'")
        suggestions = entry.get("acceptedSuggestions", [])
        if not isinstance(suggestions, list) or not all(
            isinstance(s, dict) and isinstance(s.get("id"), str) for s in suggestions
        ):
            raise ValueError("acceptedSuggestions: expected a list of {id}")
        if outcome == "accepted" and not suggestions:
            raise ValueError("acceptedSuggestions: required when outcome is accepted")
        override = entry.get("overrideReason") or {}
        if not isinstance(override, dict):
            raise ValueError("overrideReason: expected an object")
        reason = override.get("reason") or {}
        if not isinstance(reason, dict):
            raise ValueError("overrideReason.reason: expected a Coding")
        return cls(
            card_uuid=card,
            outcome=str(outcome),
            outcome_timestamp=_timestamp(entry.get("outcomeTimestamp")),
            accepted_suggestions=tuple(s["id"] for s in suggestions),
            override_reason_code=_optional_string(reason.get("code"), "overrideReason.reason.code"),
            override_reason_system=_optional_string(
                reason.get("system"), "overrideReason.reason.system"
            ),
            override_reason_display=_optional_string(
                reason.get("display"), "overrideReason.reason.display"
            ),
            user_comment=_optional_string(
                override.get("userComment"), "overrideReason.userComment"
            ),
        )


@dataclass(frozen=True)
class RuleFeedbackStats:
    """Feedback on one rule's cards; rates are shares of the feedback entries received."""

    rule_id: str
    cards_issued: int
    feedback: int
    accepted: int
    overridden: int
    override_reasons: tuple[tuple[str, int], ...] = ()  # (reason, count), most frequent first

    @property
    def acceptance_rate(self) -> float:
        """Accepted entries / feedback entries (0 without feedback)."""
        return self.accepted / self.feedback if self.feedback else 0.0

    @property
    def override_rate(self) -> float:
        """Overridden entries / feedback entries (0 without feedback)."""
        return self.overridden / self.feedback if self.feedback else 0.0

    def as_json(self) -> dict[str, Any]:
        """A JSON-ready dict (for `pnen-cds feedback-report --format json`)."""
        return {
            "ruleId": self.rule_id,
            "cardsIssued": self.cards_issued,
            "feedback": self.feedback,
            "accepted": self.accepted,
            "overridden": self.overridden,
            "acceptanceRate": self.acceptance_rate,
            "overrideRate": self.override_rate,
            "overrideReasons": [{"reason": r, "count": n} for r, n in self.override_reasons],
        }


class Store:
    """The SQL store: one lazily created Engine per process, shared by its threads."""

    def __init__(self, database_url: str, *, clock: Callable[[], float] = time.time) -> None:
        url = make_url(database_url)
        if url.drivername == "postgresql":
            url = url.set(drivername="postgresql+psycopg")
        self._backend = url.get_backend_name()
        if self._backend not in ("sqlite", "postgresql"):
            raise ValueError(f"unsupported database {url.drivername!r}: use sqlite or postgresql")
        self._url = url
        self._clock = clock
        self._engine: Engine | None = None
        self._pid = 0
        self._checkpointer: _Checkpointer | None = None
        self._retention: _Retention | None = None
        self._next_purge = 0.0
        dialect_insert = sqlite.insert if self._backend == "sqlite" else postgresql.insert
        # The audit row's id: RETURNING on PostgreSQL, the cursor's lastrowid on SQLite (as Core).
        self._insert_audit = (
            insert(audit) if self._backend == "sqlite" else insert(audit).returning(audit.c.id)
        )
        self._audit_inserts: _AuditInserts | None = None  # compiled on first use (the dialect)
        self._insert_cards = dialect_insert(card_issued).on_conflict_do_nothing(
            index_elements=["card_uuid"]
        )
        self._insert_feedback = dialect_insert(feedback)
        seen = dialect_insert(jti_seen)
        # One atomic statement: insert, or take over a row whose token has expired.
        self._record_jti = seen.on_conflict_do_update(
            index_elements=["iss", "jti"],
            set_={"exp": seen.excluded.exp},
            where=jti_seen.c.exp < bindparam("now"),
        )
        self._purge_jti = delete(jti_seen).where(jti_seen.c.exp < bindparam("now"))

    @classmethod
    def open(cls, database_url: str, *, clock: Callable[[], float] = time.time) -> Store:
        """Open the store and bring its schema to the newest migration (creating it if new)."""
        store = cls(database_url, clock=clock)
        try:
            store.migrate()
        except BaseException:
            store.close()
            raise
        return store

    @property
    def url(self) -> str:
        """The database URL, password hidden."""
        return self._url.render_as_string(hide_password=True)

    # Fork safety: the Engine is created lazily on first use, and when a forked child (a gunicorn
    # worker) first uses a Store inherited from its parent, the inherited pool is dropped with
    # Engine.dispose(close=False), so no connection is ever shared between processes.
    @property
    def engine(self) -> Engine:
        """This process's Engine (created on first use; a forked child gets a fresh pool)."""
        engine = self._engine
        pid = os.getpid()
        if engine is None:
            engine = self._engine = self._create_engine()
            self._pid = pid
            self._start_checkpointer(engine)
        elif self._pid != pid:
            engine.dispose(close=False)  # leave the parent's connections to the parent
            self._pid = pid
            self._start_checkpointer(engine)  # the parent's thread did not survive the fork
        return engine

    def _start_checkpointer(self, engine: Engine) -> None:
        """For an SQLite file: WAL checkpoints in a background thread, not in a request."""
        if self._sqlite_file() is not None:
            self._checkpointer = _Checkpointer(engine)

    def _create_engine(self) -> Engine:
        if self._backend == "postgresql":
            return create_engine(self._url, pool_pre_ping=True, connect_args={"connect_timeout": 5})
        database = self._sqlite_file()
        memory = database is None
        if database is not None and "uri" not in self._url.query:
            # SQLite creates the -wal and -shm files with the database file's mode.
            _create_private(Path(database))
        engine = create_engine(
            self._url,
            **(
                {"poolclass": StaticPool, "connect_args": {"check_same_thread": False}}
                if memory
                else {}
            ),
        )
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine

    def migrate(self) -> None:
        """Upgrade the schema to head; safe when several processes start at once."""
        head = ScriptDirectory(str(MIGRATIONS_DIR)).get_current_head()
        with self.engine.connect() as conn:
            if _current_revision(conn) == head:
                return
        with self._migration_lock() as conn:
            if _current_revision(conn) == head:
                return  # another process migrated while we waited for the lock
            config = AlembicConfig()
            config.set_main_option("script_location", str(MIGRATIONS_DIR))
            config.attributes["connection"] = conn
            command.upgrade(config, "head")
            conn.commit()

    @contextmanager
    def _migration_lock(self) -> Iterator[Connection]:
        """A connection held under an exclusive, cross-process migration lock."""
        if self._backend == "postgresql":
            with self.engine.connect() as conn:
                conn.execute(select(func.pg_advisory_lock(_PG_MIGRATION_LOCK)))
                conn.commit()
                try:
                    yield conn
                finally:
                    conn.rollback()
                    conn.execute(select(func.pg_advisory_unlock(_PG_MIGRATION_LOCK)))
                    conn.commit()
            return
        database = self._sqlite_file()
        if database is None:
            with self.engine.connect() as conn:
                yield conn
            return
        # SQLite runs DDL outside transactions: serialise migrating processes with a lock file.
        with _file_locked(Path(f"{database}.migrate-lock")), self.engine.connect() as conn:
            yield conn

    @contextmanager
    def _writing(self) -> Iterator[Connection]:
        """A write transaction, committed on exit.

        SQLite allows one writer at a time; one that finds the database locked sleeps in steps
        (1, 2, 5, 10, … 100 ms) and tries again, which under load from several workers becomes a
        tail of hundreds of milliseconds. Writers of a SQLite file therefore queue on a lock file
        first (`_file_locked`, opened for each write: tens of microseconds). PostgreSQL and an
        in-memory SQLite need no queue.
        """
        database = self._sqlite_file()
        if database is None:
            with self.engine.begin() as conn:
                yield conn
            return
        with _file_locked(Path(f"{database}.write-lock")), self.engine.begin() as conn:
            yield conn

    def _sqlite_file(self) -> str | None:
        """The SQLite database file; None for PostgreSQL or an in-memory SQLite database."""
        database = self._url.database
        if self._backend != "sqlite" or database in (None, "", ":memory:"):
            return None
        return database

    def record_audit(self, entry: AuditEntry) -> None:
        """Store one audit record and its cards in one transaction, committed on return."""
        engine = self.engine
        prepared = self._audit_inserts
        if prepared is None:
            prepared = self._audit_inserts = _AuditInserts(
                _PreparedInsert(self._insert_audit, audit, _AUDIT_KEYS, engine.dialect),
                _PreparedInsert(self._insert_cards, card_issued, _CARD_KEYS, engine.dialect),
            )
        row = {
            "at": entry.at,
            "service": entry.service,
            "hook_instance": _text(entry.hook_instance[:MAX_ID_CHARS]),
            "patient_ref": entry.patient_ref,
            "rule_ids": _json(list(entry.rule_ids)),
            "card_uuids": _json([card for card, _ in entry.cards]),
            "resources_used": _json(compact_references(entry.resources_used)),
            "elapsed_ms": entry.elapsed_ms,
            "status": entry.status,
            "locale": entry.locale,
        }
        with self._writing() as conn:
            result = conn.exec_driver_sql(prepared.audit.sql, prepared.audit.params(row))
            audit_id = result.scalar_one() if prepared.audit.returning else result.lastrowid
            if entry.cards:
                conn.exec_driver_sql(
                    prepared.cards.sql,
                    [
                        prepared.cards.params(
                            {
                                "card_uuid": card,
                                "rule_id": rule,
                                "audit_id": audit_id,
                                "service": entry.service,
                            }
                        )
                        for card, rule in entry.cards
                    ],
                )

    def record_feedback(self, service: str, items: Sequence[FeedbackItem]) -> int:
        """Store feedback in one statement; the number newly stored (duplicates are no-ops).

        The API accepts at most `MAX_FEEDBACK_ENTRIES_LIMIT` (1,000) entries per request, well
        within SQLite's 32,766 bound values per statement.
        """
        if not items:
            return 0
        received = _utc_now()
        rows = [
            {
                "service": service,
                "card_uuid": item.card_uuid,
                "outcome": item.outcome,
                "outcome_timestamp": item.outcome_timestamp,
                "accepted_suggestions": _json(list(item.accepted_suggestions)),
                "override_reason_code": item.override_reason_code,
                "override_reason_system": item.override_reason_system,
                "override_reason_display": item.override_reason_display,
                "user_comment": item.user_comment,
                "received_at": received,
            }
            for item in items
        ]
        # One multi-row INSERT: the write lock is held for one statement, not one per entry.
        statement = self._insert_feedback.values(rows).on_conflict_do_nothing(
            index_elements=["card_uuid", "outcome", "outcome_timestamp"]
        )
        with self.engine.begin() as conn:
            stored: int = conn.execute(statement, execution_options=_KEEP_ROWCOUNT).rowcount
        return stored

    def seen(self, iss: str, jti: str, exp: float) -> bool:
        """Record (iss, jti) until exp; True if it was already recorded and not yet expired."""
        now = self._clock()
        with self._writing() as conn:
            result = conn.execute(
                self._record_jti,
                {"iss": iss, "jti": jti, "exp": float(exp), "now": now},
                execution_options=_KEEP_ROWCOUNT,
            )
            if now >= self._next_purge:
                self._next_purge = now + _PURGE_EVERY_S
                conn.execute(self._purge_jti, {"now": now})
        return result.rowcount == 0

    def feedback_report(self) -> list[RuleFeedbackStats]:
        """Per rule id: cards issued, feedback, outcomes, override reasons ("(unlinked)" last)."""
        rule = func.coalesce(card_issued.c.rule_id, UNLINKED).label("rule_id")
        joined = feedback.outerjoin(card_issued, card_issued.c.card_uuid == feedback.c.card_uuid)
        with self.engine.connect() as conn:
            issued = conn.execute(
                select(card_issued.c.rule_id, func.count()).group_by(card_issued.c.rule_id)
            ).all()
            outcomes = conn.execute(
                select(rule, feedback.c.outcome, func.count())
                .select_from(joined)
                .group_by(rule, feedback.c.outcome)
            ).all()
            reasons = conn.execute(
                select(
                    rule,
                    feedback.c.override_reason_system,
                    feedback.c.override_reason_code,
                    func.max(feedback.c.override_reason_display),
                    func.count(),
                )
                .select_from(joined)
                .where(feedback.c.outcome == "overridden")
                .group_by(rule, feedback.c.override_reason_system, feedback.c.override_reason_code)
            ).all()
        counts: dict[str, dict[str, int]] = {}
        for rule_id, n in issued:
            counts.setdefault(rule_id, {})["issued"] = n
        for rule_id, outcome, n in outcomes:
            counts.setdefault(rule_id, {})[outcome] = n
        by_rule: dict[str, list[tuple[str, int]]] = {}
        for rule_id, system, code, display, n in reasons:
            label = display or (f"{system}|{code}" if system and code else code) or NO_REASON
            by_rule.setdefault(rule_id, []).append((label, n))
        report = []
        for rule_id in sorted(counts, key=lambda r: (r == UNLINKED, r)):
            c = counts[rule_id]
            accepted, overridden = c.get("accepted", 0), c.get("overridden", 0)
            report.append(
                RuleFeedbackStats(
                    rule_id=rule_id,
                    cards_issued=c.get("issued", 0),
                    feedback=accepted + overridden,
                    accepted=accepted,
                    overridden=overridden,
                    override_reasons=tuple(
                        sorted(by_rule.get(rule_id, []), key=lambda item: (-item[1], item[0]))
                    ),
                )
            )
        return report

    def prune_audit(self, older_than: datetime, *, batch: int = _PRUNE_BATCH) -> PruneResult:
        """Delete audit rows (and their card rows) from before `older_than`, in short batches.

        Feedback is kept: feedback on a pruned card is reported as unlinked. Each batch is its own
        transaction, so concurrent hook calls never wait long for the write lock.
        """
        audit_rows = cards = 0
        while True:
            with self.engine.begin() as conn:
                ids = (
                    conn.execute(select(audit.c.id).where(audit.c.at < older_than).limit(batch))
                    .scalars()
                    .all()
                )
                if not ids:
                    return PruneResult(audit_rows, cards)
                cards += conn.execute(
                    delete(card_issued).where(card_issued.c.audit_id.in_(ids)),
                    execution_options=_KEEP_ROWCOUNT,
                ).rowcount
                audit_rows += conn.execute(
                    delete(audit).where(audit.c.id.in_(ids)), execution_options=_KEEP_ROWCOUNT
                ).rowcount

    def start_retention(self, days: int) -> None:
        """Prune audit rows older than `days` now and then, in a background thread."""
        if self._retention is None:
            self._retention = _Retention(self, days)

    def ping(self) -> bool:
        """True if the database answers (readiness)."""
        try:
            with self.engine.connect() as conn:
                conn.execute(text("SELECT 1"))
        except (SQLAlchemyError, OSError):
            return False
        return True

    def close(self) -> None:
        """Close this process's connections (the Store reopens them if used again)."""
        if self._retention is not None:
            self._retention.stop()
            self._retention = None
        if self._checkpointer is not None:
            if self._pid == os.getpid():
                self._checkpointer.stop()
            self._checkpointer = None
        if self._engine is not None:
            if self._pid == os.getpid():
                self._engine.dispose()
            else:
                self._engine.dispose(close=False)
            self._engine = None


class _Checkpointer:
    """Copies the SQLite WAL into the database every second, off the request path.

    A checkpoint syncs the database file to disk; run by a committing request (SQLite's automatic
    checkpoint) it adds tens of milliseconds to every few hundredth call. Here it runs in a daemon
    thread of each process (PASSIVE: it never blocks readers or writers); the automatic checkpoint
    stays as a backstop at WAL_AUTOCHECKPOINT pages in case this thread stops.
    """

    INTERVAL_S: Final[float] = 1.0

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._run, name="sqlite-checkpoint", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stopped.wait(self.INTERVAL_S):
            try:
                with self._engine.connect() as conn:
                    conn.exec_driver_sql("PRAGMA wal_checkpoint(PASSIVE)")
            except SQLAlchemyError:
                continue  # a busy or vanished database: the automatic checkpoint still runs

    def stop(self) -> None:
        """Stop the thread (waits for a checkpoint in progress)."""
        self._stopped.set()
        self._thread.join(timeout=5)


class _Retention:
    """Applies the audit retention in a daemon thread: soon after start, then every hour.

    Each worker runs one (deleting is idempotent; batches keep every transaction short). The
    first run waits a random few seconds so that workers started together do not prune at once.
    """

    INTERVAL_S: Final[float] = 3600.0

    def __init__(self, store: Store, days: int) -> None:
        self._store = store
        self._days = days
        self._stopped = threading.Event()
        self.runs = 0
        self._thread = threading.Thread(target=self._run, name="audit-retention", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        delay = random.uniform(1.0, 10.0)  # noqa: S311 - spreading start-up work, not security
        while not self._stopped.wait(delay):
            cutoff = _utc_now() - timedelta(days=self._days)
            try:
                result = self._store.prune_audit(cutoff)
            except SQLAlchemyError:
                log.warning("audit retention: the store could not be pruned; retrying later")
            else:
                self.runs += 1
                if result.audit_rows:
                    log.info(
                        "audit retention: %d rows older than %d days pruned",
                        result.audit_rows,
                        self._days,
                    )
            delay = self.INTERVAL_S

    def stop(self) -> None:
        """Stop the thread (waits for a batch in progress)."""
        self._stopped.set()
        self._thread.join(timeout=5)


WAL_AUTOCHECKPOINT: Final[int] = 10_000
"""Pages (4 KiB) the WAL may grow to before a commit checkpoints it itself (the backstop)."""


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    """WAL (readers never block the writer), NORMAL sync, and waiting on locks, not failing."""
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA busy_timeout = 10000")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.execute(f"PRAGMA wal_autocheckpoint = {WAL_AUTOCHECKPOINT}")
        cursor.execute("PRAGMA foreign_keys = ON")
    finally:
        cursor.close()


@contextmanager
def _file_locked(path: Path) -> Iterator[None]:
    """Hold an exclusive lock on `path` (created owner-only if new) for the block.

    The file is opened here, so each holder (thread or process) has its own handle and the lock
    excludes them all; the kernel wakes the next waiter as soon as it is released.
    """
    _create_private(path)
    with path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _create_private(path: Path) -> None:
    """Create `path` empty and readable by its owner only, unless it exists (left as it is).

    The store holds patient references, rule ids (which imply the diagnosis) and free-text
    comments: whatever the process umask, a new file gets mode 0600.
    """
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return
    os.close(fd)


def _current_revision(conn: Connection) -> str | None:
    """The schema revision recorded in the database (None for an empty database)."""
    revision = MigrationContext.configure(conn).get_current_revision()
    conn.commit()
    return revision
