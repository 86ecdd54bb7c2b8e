"""The index database: migrations (single head, from empty, from the previous revision, models match,
round trip, refusal of an unknown revision), SQLite's locking, exact amounts, and errors."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, select, text

import registry.access.models  # noqa: F401  (the API's tables are part of the same schema)
from registry.errors import DatabaseUnavailableError, SchemaVersionError
from registry.index import Database, catalogue
from registry.index.db import alembic_config, head_revision
from registry.index.models import Base, Block, Chain, CouponPeriod, Holding
from registry.index.types import MAX_AMOUNT

ROOT = Path(__file__).resolve().parents[2]


def _diff(db: Database) -> list[object]:
    with db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return list(compare_metadata(context, Base.metadata))


def _previous_revision() -> str:
    script = ScriptDirectory.from_config(alembic_config())
    head = script.get_revision(head_revision())
    assert head is not None and isinstance(head.down_revision, str)
    return head.down_revision


def test_the_migrations_have_a_single_head() -> None:
    script = ScriptDirectory.from_config(alembic_config())
    assert len(script.get_heads()) == 1
    assert script.get_current_head() == head_revision()


def test_an_empty_database_is_migrated_at_open_and_matches_the_models(db: Database) -> None:
    assert db.revision() == head_revision()
    assert _diff(db) == []


def test_upgrading_from_the_previous_revision_keeps_the_data(db_url: str) -> None:
    with Database.open(db_url, migrate=False) as old:
        old.migrate(_previous_revision())
        assert "redemptions" not in inspect(old.engine).get_table_names()
        with old.write() as session:
            asset = catalogue.add_asset(
                session,
                chain="permissionless",
                chain_id=7,
                address="0x" + "ab" * 20,
                kind="cash",
                mode="open",
                name="Cash",
                symbol="CASH",
                decimals=6,
                terms={"note": "kept"},
                deployed_block=3,
            )
            session.add(Chain(name="permissionless", chain_id=7, genesis_hash="0x" + "00" * 32))
            session.flush()
            session.add(
                Block(
                    chain="permissionless",
                    number=0,
                    hash="0x" + "11" * 32,
                    parent_hash="0x" + "00" * 32,
                    timestamp=1,
                )
            )
            # A coupon period indexed before sweeps were: the columns of that revision only.
            session.execute(
                text(
                    "INSERT INTO coupon_periods (id, asset_id, period_id, record_id, record_date, "
                    "coupon_per_bond, funded, funded_amount, claimed_amount, claims, block_from, block_to) "
                    "VALUES (1, :asset, 0, 1, 5, :amount, true, :amount, :amount, 1, 3, :forever)"
                ),
                {
                    "asset": asset.asset_id,
                    "amount": format(25, "078d") if db_url.startswith("sqlite") else 25,
                    "forever": 2**62,
                },
            )
    with Database.open(db_url) as new:
        assert new.revision() == head_revision()
        assert _diff(new) == []
        with new.read() as session:
            assert catalogue.get_asset(session, asset.asset_id).terms == {"note": "kept"}
            assert session.scalar(select(Block.hash)) == "0x" + "11" * 32
            assert session.scalars(select(Holding)).all() == []
            period = session.scalars(select(CouponPeriod)).one()
            # Never swept, and the amounts read back exactly, old and new columns alike.
            assert (period.funded_amount, period.claimed_amount, period.swept_amount) == (25, 25, 0)


def test_downgrade_to_nothing_and_upgrade_again(db: Database) -> None:
    from alembic import command

    with db.engine.execution_options(registry_write=True).begin() as connection:
        config = alembic_config()
        config.attributes["connection"] = connection
        command.downgrade(config, "base")
    assert set(inspect(db.engine).get_table_names()) <= {"alembic_version"}
    db.migrate()
    assert db.revision() == head_revision()
    assert _diff(db) == []


def test_a_database_written_by_a_newer_version_is_refused(db_url: str) -> None:
    with Database.open(db_url) as db, db.write() as session:
        session.execute(text("UPDATE alembic_version SET version_num = 'fffffffffff'"))
    with pytest.raises(SchemaVersionError, match="a newer version wrote it"):
        Database.open(db_url)


def test_openers_of_a_new_database_at_once_all_succeed(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'index.sqlite3'}"
    barrier = threading.Barrier(4)
    errors: list[BaseException] = []

    def open_it() -> None:
        barrier.wait()
        try:
            Database.open(url).close()
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=open_it) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    with Database.open(url) as db:
        assert db.revision() == head_revision()


def test_alembic_upgrade_head_from_the_command_line(tmp_path: Path) -> None:
    env = {"REGISTRY_DATABASE_URL": f"sqlite:///{tmp_path / 'cli.sqlite3'}", "PATH": ""}
    result = subprocess.run(
        [sys.executable, "-m", "alembic", "upgrade", "head"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    with Database.open(env["REGISTRY_DATABASE_URL"], migrate=False) as db:
        assert db.revision() == head_revision()


# ---------------------------------------------------------------------------------------------- sqlite


def test_sqlite_runs_in_wal_mode_and_writers_take_the_lock_at_begin(sqlite_db: Database) -> None:
    path = sqlite_db.engine.url.database
    assert path is not None
    with sqlite_db.engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
    other = sqlite3.connect(path, timeout=0, isolation_level=None)
    try:
        with sqlite_db.read() as session:
            session.execute(select(Chain)).all()
            other.execute("BEGIN IMMEDIATE")  # a reader holds no write lock
            other.execute("ROLLBACK")
        with sqlite_db.write() as session:
            session.execute(select(Chain)).all()
            # The writer took the write lock with its BEGIN, before writing anything: a second writer
            # waits (here, with no busy timeout, fails at once) instead of deadlocking later.
            with pytest.raises(sqlite3.OperationalError, match="locked"):
                other.execute("BEGIN IMMEDIATE")
    finally:
        other.close()


# ---------------------------------------------------------------------------------------------- amounts


def test_amounts_are_exact_and_ordered_up_to_uint256(db: Database) -> None:
    values = [0, 1, 9, 10, 2**64, 2**80 - 1, MAX_AMOUNT]
    with db.write() as session:
        for number, value in enumerate(values):
            session.add(
                Holding(
                    asset_id="a",
                    wallet=f"w{number}",
                    balance_raw=value,
                    frozen_raw=value,
                    account_frozen=False,
                    block_from=0,
                    block_to=1,
                )
            )
    with db.read() as session:
        stored = session.scalars(select(Holding.balance_raw).order_by(Holding.balance_raw.desc())).all()
        assert stored == sorted(values, reverse=True)
        assert session.scalars(select(Holding.wallet).where(Holding.balance_raw > 2**64)).all() == [
            "w5",
            "w6",
        ]


def test_a_negative_or_oversized_amount_is_refused(sqlite_db: Database) -> None:
    from sqlalchemy.exc import StatementError

    for value in (-1, MAX_AMOUNT + 1):
        holding = Holding(
            asset_id="a",
            wallet="w",
            balance_raw=value,
            frozen_raw=0,
            account_frozen=False,
            block_from=0,
            block_to=1,
        )
        with sqlite_db.write() as session:
            session.add(holding)
            with pytest.raises(StatementError, match="uint256"):
                session.flush()
            session.rollback()


# ---------------------------------------------------------------------------------------------- errors


def test_an_unreachable_server_is_a_clear_error_without_the_password() -> None:
    with pytest.raises(DatabaseUnavailableError) as caught:
        Database.open("postgresql://registry:hunter2-secret@127.0.0.1:1/index")
    assert "hunter2-secret" not in str(caught.value)
    assert "REGISTRY_DATABASE_URL" in str(caught.value)


def test_an_unsupported_database_is_refused() -> None:
    with pytest.raises(DatabaseUnavailableError, match="SQLite or PostgreSQL"):
        Database.open("mysql://root@127.0.0.1/index")
