"""The index database: open it, bring its schema up to date, and hand out sessions.

    db = Database.open(settings)            # REGISTRY_DATABASE_URL, else <data dir>/index.sqlite3
    with db.write() as session:             # one transaction; committed at the end, rolled back on error
        catalogue.add_asset(session, ...)
    with db.read() as session:              # a consistent snapshot for queries
        page = queries.cap_table(session, asset_id)

**SQLite** (the default): the file ``<data dir>/index.sqlite3`` in WAL mode, so readers never wait
for the writer; foreign keys on; a 30 s busy timeout. Write transactions start with
``BEGIN IMMEDIATE``: a writer takes the write lock before it reads, so two writers (the two chains'
indexers, a service adding an asset) queue instead of failing half way with "database is locked"
when one upgrades its read lock. **PostgreSQL** by ``REGISTRY_DATABASE_URL``
(``postgresql://user@host:5432/dbname``, driven by psycopg 3).

**Migrations run at open** (`Database.open`, unless ``migrate=False``): Alembic's ``upgrade head``
with the revisions shipped in ``registry/index/migrations``, under a lock (SQLite: the write lock;
PostgreSQL: an advisory lock), so two processes opening a new database at once do not both create
it. A database whose revision this version does not know (written by a newer version) is refused
with `SchemaVersionError` rather than used.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, make_url, text
from sqlalchemy.engine import URL
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import ConnectionPoolEntry

from registry.errors import DatabaseUnavailableError, SchemaVersionError
from registry.settings import Settings

logger = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
"""Where the Alembic environment and revisions of the index live (shipped inside the package)."""

SQLITE_BUSY_TIMEOUT_MS = 30_000
"""How long a SQLite writer waits for another writer's lock before giving up."""

_MIGRATION_LOCK_KEY = 0x7265_6769_7374_7279  # "registry": the PostgreSQL advisory lock of migrations


def safe_url(url: str | URL) -> str:
    """``url`` with its password hidden, for messages and logs."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except (SQLAlchemyError, ValueError):
        return "<unparseable database URL>"


def alembic_config(url: str | URL | None = None) -> Any:
    """An Alembic configuration over the shipped migrations (``url`` for the command-line style use)."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    if url is not None:
        config.set_main_option(
            "sqlalchemy.url", make_url(url).render_as_string(hide_password=False).replace("%", "%%")
        )
    return config


def head_revision() -> str:
    """The newest revision this version of the registry ships."""
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None, "the index ships at least one revision"
    return head


class Database:
    """The index database: an engine, and sessions for reading and for writing."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        """The SQLAlchemy engine (reads start a deferred transaction)."""
        self.url = safe_url(engine.url)
        """The database URL, password hidden."""
        self._writer = engine.execution_options(registry_write=True)
        self._read_sessions = sessionmaker(bind=engine, expire_on_commit=False)
        self._write_sessions = sessionmaker(bind=self._writer, expire_on_commit=False)

    @property
    def dialect(self) -> str:
        """``sqlite`` or ``postgresql``."""
        return self.engine.dialect.name

    @classmethod
    def open(cls, where: Settings | str | URL, *, migrate: bool = True, echo: bool = False) -> Database:
        """Open the index database of ``where`` (settings, or a SQLAlchemy URL) and migrate it to head.

        Raises:
            DatabaseUnavailableError: the database cannot be reached or created.
            SchemaVersionError: its schema is newer than this version, or a migration failed.
        """
        url = where.index_database_url() if isinstance(where, Settings) else where
        database = cls(create_index_engine(url, echo=echo))
        try:
            with database.engine.connect():
                pass
        except SQLAlchemyError as exc:
            database.close()
            raise DatabaseUnavailableError(
                f"cannot open the index database {database.url}: {exc.__class__.__name__}: "
                f"{getattr(exc, 'orig', exc)}. Check REGISTRY_DATABASE_URL (or the data directory) and "
                "that the server runs"
            ) from exc
        if migrate:
            try:
                database.migrate()
            except BaseException:
                database.close()
                raise
        return database

    def migrate(self, revision: str = "head") -> None:
        """Upgrade the schema to ``revision`` (default: the newest), under a lock.

        Raises:
            SchemaVersionError: the database is at a revision this version does not know, or a
                migration failed (its transaction is rolled back).
        """
        from alembic import command
        from alembic.runtime.migration import MigrationContext
        from alembic.script import ScriptDirectory

        config = alembic_config()
        script = ScriptDirectory.from_config(config)
        with self._writer.begin() as connection:
            if self.dialect == "postgresql":
                connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _MIGRATION_LOCK_KEY})
            current = MigrationContext.configure(connection).get_current_revision()
            if current is not None and current not in {rev.revision for rev in script.walk_revisions()}:
                raise SchemaVersionError(
                    f"the index database {self.url} is at schema revision {current}, which this version "
                    f"of the registry does not know (its newest is {script.get_current_head()}): a newer "
                    "version wrote it. Upgrade the registry, or point REGISTRY_DATABASE_URL at another "
                    "database"
                )
            config.attributes["connection"] = connection
            try:
                command.upgrade(config, revision)
            except SQLAlchemyError as exc:
                raise SchemaVersionError(
                    f"migrating the index database {self.url} to {revision} failed and was rolled back: {exc}"
                ) from exc

    def revision(self) -> str | None:
        """The schema revision the database is at (None: empty)."""
        from alembic.runtime.migration import MigrationContext

        with self.engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()

    @contextmanager
    def read(self) -> Iterator[Session]:
        """A session for queries. Each query of `registry.index.queries` pins the block it answers for,
        so rows the indexer writes meanwhile do not change its answer."""
        with self._read_sessions() as session:
            yield session

    @contextmanager
    def write(self) -> Iterator[Session]:
        """A session in one write transaction (``BEGIN IMMEDIATE`` on SQLite), committed when the block
        ends, rolled back if it raises."""
        with self._write_sessions() as session, session.begin():
            yield session

    def close(self) -> None:
        """Release every pooled connection."""
        self.engine.dispose()

    def __enter__(self) -> Database:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def create_index_engine(url: str | URL, *, echo: bool = False) -> Engine:
    """An engine for the index at ``url``, configured for it (SQLite: WAL, foreign keys, busy timeout,
    explicit ``BEGIN``/``BEGIN IMMEDIATE``).

    Raises:
        DatabaseUnavailableError: the URL cannot be parsed or names no supported database.
    """
    try:
        parsed = make_url(url)
    except (SQLAlchemyError, ValueError) as exc:
        raise DatabaseUnavailableError(f"the index database URL cannot be read: {exc}") from exc
    backend = parsed.get_backend_name()
    if backend == "postgresql" and parsed.drivername == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")
    if backend == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(parsed, echo=echo, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000})
        _configure_sqlite(engine)
        return engine
    if backend == "postgresql":
        return create_engine(parsed, echo=echo, pool_pre_ping=True)
    raise DatabaseUnavailableError(
        f"the index runs on SQLite or PostgreSQL; {safe_url(parsed)} names {backend!r}"
    )


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: ConnectionPoolEntry) -> None:
        # Let SQLAlchemy's "begin" event below emit BEGIN itself: pysqlite's own implicit BEGIN is
        # deferred and would come too late to take the write lock first.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        _use_wal(cursor)
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        immediate = connection.get_execution_options().get("registry_write", False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def _use_wal(cursor: Any) -> None:
    """Put the database in WAL mode (it stays so in the file), waiting for a concurrent opener.

    Switching needs an exclusive lock, and SQLite answers "database is locked" at once, without its busy
    handler, while another connection is switching the same new file; so wait and look again.
    """
    import sqlite3
    import time

    deadline = time.monotonic() + SQLITE_BUSY_TIMEOUT_MS / 1000
    pause = 0.005
    while True:
        try:
            if str(cursor.execute("PRAGMA journal_mode").fetchone()[0]).lower() != "wal":
                cursor.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if ("locked" not in str(exc) and "busy" not in str(exc)) or time.monotonic() > deadline:
                raise
            time.sleep(pause)
            pause = min(pause * 2, 0.2)
