"""The index: a reorg-aware copy of what the registry's contracts did, in SQLite or PostgreSQL.

    from registry.index import Database, Indexer, catalogue, queries
    db = Database.open(settings)                        # migrates to the newest schema
    with db.write() as session:
        asset = catalogue.add_asset(session, ...)       # the services record what they deploy
    Indexer.for_handle(db, handle).sync()               # follow the chain through its Web3
    with db.read() as session:
        page = queries.cap_table(session, asset.asset_id, at=datetime(2027, 1, 1, tzinfo=UTC))

Modules: `db` (engine, sessions, migrations at open), `models` (tables), `catalogue` (assets and
identity registries), `decoding` (logs by ABI), `projections` (what events mean for the tables),
`versioned` (block-range versions), `indexer` (following a chain), `queries` (cap tables, holdings,
events).
"""

from registry.index import catalogue, queries
from registry.index.db import Database
from registry.index.indexer import Indexer, IndexFollower, SyncReport

__all__ = ["Database", "IndexFollower", "Indexer", "SyncReport", "catalogue", "queries"]
