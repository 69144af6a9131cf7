"""Storage for the service: one small layer over SQLite (a file, no set-up) and PostgreSQL.

Both speak the same SQL here (``?`` placeholders, translated for psycopg), so every query of
the service is written once. The schema is created and upgraded by numbered migrations
(``schema_migrations`` records which ran); several processes starting at once on one
PostgreSQL serialise on an advisory lock, on SQLite on the write lock.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg

Row = dict[str, Any]

# Advisory lock keys (PostgreSQL): migrations, and job claims under the global limit.
MIGRATION_LOCK = 7_243_001
CLAIM_LOCK = 7_243_002

_ID = "{id}"  # the auto-increment primary key, spelt per dialect

MIGRATIONS: tuple[tuple[int, str], ...] = (
    (1, f"""
CREATE TABLE tokens (
    id {_ID}, name TEXT NOT NULL, scope TEXT NOT NULL, token_hash TEXT NOT NULL UNIQUE,
    created TEXT NOT NULL, revoked INTEGER NOT NULL DEFAULT 0);
CREATE TABLE sessions (
    session_hash TEXT PRIMARY KEY, token_id BIGINT NOT NULL, expires TEXT NOT NULL);
-- Times as epoch seconds are DOUBLE PRECISION: PostgreSQL's REAL (4 bytes) would round
-- them to minutes and make leases lapse at random.
CREATE TABLE jobs (
    id {_ID}, kind TEXT NOT NULL, state TEXT NOT NULL, request TEXT NOT NULL,
    policy TEXT, as_of TEXT, targets INTEGER NOT NULL DEFAULT 0,
    progress INTEGER NOT NULL DEFAULT 0, assets INTEGER NOT NULL DEFAULT 0,
    errors INTEGER NOT NULL DEFAULT 0, findings TEXT,
    worst_status TEXT, attempts INTEGER NOT NULL DEFAULT 0, restarted INTEGER NOT NULL DEFAULT 0,
    worker TEXT, lease_until DOUBLE PRECISION, cancel_requested INTEGER NOT NULL DEFAULT 0,
    schedule_id BIGINT, token_id BIGINT, message TEXT,
    created TEXT NOT NULL, started TEXT, finished TEXT, duration DOUBLE PRECISION);
CREATE INDEX jobs_state ON jobs (state, id);
CREATE TABLE job_inputs (
    job_id BIGINT NOT NULL, position INTEGER NOT NULL, name TEXT NOT NULL, content TEXT NOT NULL,
    PRIMARY KEY (job_id, position));
CREATE TABLE job_claims (
    id {_ID}, job_id BIGINT NOT NULL, worker TEXT NOT NULL, claimed TEXT NOT NULL,
    reason TEXT NOT NULL);
CREATE INDEX job_claims_job ON job_claims (job_id);
CREATE TABLE job_events (
    id {_ID}, job_id BIGINT NOT NULL, at TEXT NOT NULL, event TEXT NOT NULL);
CREATE INDEX job_events_job ON job_events (job_id);
CREATE TABLE reports (
    job_id BIGINT NOT NULL, format TEXT NOT NULL, body TEXT NOT NULL,
    PRIMARY KEY (job_id, format));
CREATE TABLE assets (
    job_id BIGINT NOT NULL, asset_id TEXT NOT NULL, type TEXT NOT NULL, host TEXT, port INTEGER,
    path TEXT, subject TEXT, not_after TEXT, worst_status TEXT, quantum_vulnerable INTEGER,
    seen TEXT NOT NULL, body TEXT NOT NULL, PRIMARY KEY (job_id, asset_id));
CREATE INDEX assets_asset ON assets (asset_id, job_id);
CREATE TABLE findings (
    id {_ID}, job_id BIGINT NOT NULL, asset_id TEXT NOT NULL, rule TEXT NOT NULL,
    status TEXT NOT NULL, severity TEXT NOT NULL, context TEXT NOT NULL, waived INTEGER NOT NULL,
    body TEXT NOT NULL);
CREATE INDEX findings_job ON findings (job_id, asset_id);
CREATE INDEX findings_status ON findings (status);
CREATE TABLE schedules (
    id {_ID}, request TEXT NOT NULL, interval_seconds INTEGER NOT NULL,
    next_run DOUBLE PRECISION NOT NULL,
    enabled INTEGER NOT NULL DEFAULT 1, created TEXT NOT NULL, last_job BIGINT,
    token_id BIGINT);
"""),
)


def now_text() -> str:
    """The current time as the service writes it: ISO 8601 UTC with ``Z``."""
    return datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def is_postgres(url: str) -> bool:
    """Whether ``url`` names a PostgreSQL database."""
    return url.startswith(("postgresql://", "postgres://"))


def sqlite_path(url: str) -> str:
    """The file of a ``sqlite:///path`` URL (a bare path is taken as the file)."""
    if url.startswith("sqlite:///"):
        return url[len("sqlite:///"):] or "cryptocheck-serve.db"
    if url.startswith("sqlite://"):
        return url[len("sqlite://"):]
    return url


class Tx:
    """One transaction: ``rows``/``one``/``run`` with ``?`` placeholders on either database."""

    def __init__(self, conn: Any, postgres: bool) -> None:
        self._conn = conn
        self.postgres = postgres

    def _sql(self, sql: str) -> str:
        return sql.replace("%", "%%").replace("?", "%s") if self.postgres else sql

    def rows(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        """Every row of a query, as dicts."""
        cur = self._conn.execute(self._sql(sql), tuple(params))
        if cur.description is None:
            return []
        names = [d[0] for d in cur.description]
        return [dict(zip(names, row)) for row in cur.fetchall()]

    def one(self, sql: str, params: Sequence[Any] = ()) -> Row | None:
        """The first row of a query, or None."""
        found = self.rows(sql, params)
        return found[0] if found else None

    def run(self, sql: str, params: Sequence[Any] = ()) -> int:
        """Run a statement; the number of rows it changed."""
        cur = self._conn.execute(self._sql(sql), tuple(params))
        return int(cur.rowcount or 0)

    def many(self, sql: str, params: Sequence[Sequence[Any]]) -> None:
        """Run one statement for each parameter tuple."""
        if not params:
            return
        if self.postgres:
            with self._conn.cursor() as cur:
                cur.executemany(self._sql(sql), [tuple(p) for p in params])
        else:
            self._conn.executemany(sql, [tuple(p) for p in params])

    def insert(self, sql: str, params: Sequence[Any] = ()) -> int:
        """Run an INSERT into a table with an ``id`` key; the new id."""
        row = self.one(sql + " RETURNING id", params)
        assert row is not None
        return int(row["id"])

    def lock(self, key: int) -> None:
        """Serialise with every other transaction taking ``key`` (PostgreSQL; SQLite
        transactions already hold the one write lock)."""
        if self.postgres:
            self._conn.execute("SELECT pg_advisory_xact_lock(%s)", (key,))


class Database:
    """A bounded pool of connections to one database; ``transaction()`` is the only way in.

    The pool bounds what one process holds open (request threads come and go; PostgreSQL
    allows a hundred connections by default, shared by every process). A transaction that
    waits for a connection blocks; none is ever opened inside another.
    """

    def __init__(self, url: str, pool_size: int = 10) -> None:
        self.url = url
        self.postgres = is_postgres(url)
        self._idle: list[Any] = []
        self._lock = threading.Lock()
        self._slots = threading.BoundedSemaphore(pool_size)

    def describe(self) -> str:
        """The database for logs: its kind and place, never a password."""
        if self.postgres:
            info = psycopg.conninfo.conninfo_to_dict(self.url)
            return f"postgresql {info.get('host', '')}:{info.get('port', 5432)}/{info.get('dbname', '')}"
        return f"sqlite {sqlite_path(self.url)}"

    def _open(self) -> Any:
        if self.postgres:
            return psycopg.connect(self.url, autocommit=True, connect_timeout=10)
        else:
            path = sqlite_path(self.url)
            if path != ":memory:":
                Path(path).parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(path, timeout=30, isolation_level=None,
                                   check_same_thread=False)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA busy_timeout=30000")
            return conn

    @contextmanager
    def _connection(self) -> Iterator[Any]:
        self._slots.acquire()
        try:
            with self._lock:
                conn = self._idle.pop() if self._idle else None
            if conn is None:
                conn = self._open()
            keep = True
            try:
                yield conn
            except (psycopg.OperationalError, psycopg.InterfaceError):
                keep = False  # a broken connection is not reused
                raise
            finally:
                if keep and not (self.postgres and conn.closed):
                    with self._lock:
                        self._idle.append(conn)
                else:
                    conn.close()
        finally:
            self._slots.release()

    def close(self) -> None:
        """Close the idle connections."""
        with self._lock:
            idle, self._idle = self._idle, []
        for conn in idle:
            conn.close()

    @contextmanager
    def transaction(self) -> Iterator[Tx]:
        """A transaction, committed when the block ends and rolled back on an exception.

        On SQLite it takes the write lock at once (``BEGIN IMMEDIATE``), so that a claim
        read and its update cannot interleave with another process's.
        """
        with self._connection() as conn:
            if self.postgres:
                with conn.transaction():
                    yield Tx(conn, True)
            else:
                conn.execute("BEGIN IMMEDIATE")
                try:
                    yield Tx(conn, False)
                except BaseException:
                    conn.execute("ROLLBACK")
                    raise
                conn.execute("COMMIT")

    def migrate(self) -> int:
        """Bring the schema up to date; the version it is at."""
        with self.transaction() as tx:
            tx.lock(MIGRATION_LOCK)
            tx.run("CREATE TABLE IF NOT EXISTS schema_migrations "
                   "(version INTEGER PRIMARY KEY, applied TEXT NOT NULL)")
            done = {int(r["version"]) for r in tx.rows("SELECT version FROM schema_migrations")}
            for version, script in MIGRATIONS:
                if version in done:
                    continue
                key = "BIGSERIAL PRIMARY KEY" if self.postgres else \
                    "INTEGER PRIMARY KEY AUTOINCREMENT"
                for statement in script.replace(_ID, key).split(";"):
                    if statement.strip():
                        tx.run(statement)
                tx.run("INSERT INTO schema_migrations (version, applied) VALUES (?, ?)",
                       (version, now_text()))
        return MIGRATIONS[-1][0]

    def schema_version(self) -> int | None:
        """The newest migration applied, or None when the schema is missing."""
        try:
            with self.transaction() as tx:
                row = tx.one("SELECT MAX(version) AS v FROM schema_migrations")
        except (sqlite3.Error, psycopg.Error):
            return None
        return int(row["v"]) if row and row["v"] is not None else None
