"""Alembic environment of the index: the shipped revisions, applied to the given connection.

`registry.index.db.Database.migrate` passes its open connection (inside its lock and transaction) as
``config.attributes["connection"]``. Run from the command line (``alembic upgrade head`` in the
repository, with its ``alembic.ini``), the database is the one the settings name:
``REGISTRY_DATABASE_URL``, else ``<data dir>/index.sqlite3``.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

import registry.access.models  # noqa: F401  (the API's tables share the index's metadata and history)
from registry.index.models import Base

config = context.config
target_metadata = Base.metadata


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        # SQLite cannot ALTER most things in place: batch mode copies the table, on SQLite only.
        render_as_batch=True,
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations() -> None:
    """Apply the revisions to the given connection, or to the settings' database."""
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    from registry.index.db import Database
    from registry.settings import load_settings

    url = config.get_main_option("sqlalchemy.url") or load_settings().index_database_url()
    database = Database.open(url, migrate=False)
    try:
        with database.engine.execution_options(registry_write=True).begin() as connection:
            _run(connection)
    finally:
        database.close()


if context.is_offline_mode():
    raise SystemExit("the index migrations run against a database; offline (--sql) mode is not supported")
run_migrations()
