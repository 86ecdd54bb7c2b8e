"""Block-range versions of entities: change them block by block, write them in bulk, undo them.

`VersionedRows` is the working set of one write transaction: the open version of each entity
touched (loaded in bulk by `prefetch`, or on first use), changed by `put` and `close` in block order,
and written by `flush` with one bulk INSERT and one bulk UPDATE per model. Two changes in the same
block make one version (the second overwrites the first), so the rows only depend on the blocks'
contents, not on how the indexer cut its work into transactions: a fresh re-index writes the same
versions.

`undo_after` is the other half: every version that starts after block F is deleted and every one
closed after F is reopened.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import ColumnElement, and_, delete, insert, select, tuple_, update
from sqlalchemy.orm import Session

from registry.index.models import FOREVER, VERSIONED_MODELS, Asset, Versioned

Key = tuple[Any, ...]
Row = dict[str, Any]

_PREFETCH_CHUNK = 400


class VersionedRows:
    """The open versions of the entities one write transaction changes (see the module docstring)."""

    def __init__(self, session: Session) -> None:
        self._session = session
        self._open: dict[type[Versioned], dict[Key, Row | None]] = defaultdict(dict)
        self._new: dict[type[Versioned], list[Row]] = defaultdict(list)
        self._closed: dict[type[Versioned], dict[int, int]] = defaultdict(dict)

    def prefetch(self, model: type[Versioned], keys: Iterable[Key]) -> None:
        """Load the open versions of ``keys`` (those not known yet) in a few queries."""
        known = self._open[model]
        wanted = sorted({key for key in keys if key not in known})
        columns = [getattr(model, name) for name in model.key_columns]
        for start in range(0, len(wanted), _PREFETCH_CHUNK):
            chunk = wanted[start : start + _PREFETCH_CHUNK]
            condition = (
                columns[0].in_([key[0] for key in chunk])
                if len(columns) == 1
                else tuple_(*columns).in_(chunk)
            )
            for found in self._session.scalars(select(model).where(model.block_to == FOREVER, condition)):
                known[self._key_of(model, found)] = _as_row(found)
            for key in chunk:
                known.setdefault(key, None)

    def get(self, model: type[Versioned], key: Key) -> Mapping[str, Any] | None:
        """The open version of entity ``key`` (None: it has none), loading it if needed."""
        return self._current(model, key)

    def _current(self, model: type[Versioned], key: Key) -> Row | None:
        if key not in self._open[model]:
            self.prefetch(model, [key])
        return self._open[model][key]

    def put(self, model: type[Versioned], key: Key, block: int, values: Mapping[str, Any]) -> None:
        """From ``block`` on, entity ``key`` has ``values`` (its non-key, non-range columns)."""
        current = self._current(model, key)
        if current is not None:
            if all(current[name] == value for name, value in values.items()):
                return
            if "id" not in current and current["block_from"] == block:
                current.update(values)
                return
            self._end(model, current, block)
        row: Row = dict(zip(model.key_columns, key, strict=True))
        row.update(values)
        row["block_from"] = block
        row["block_to"] = FOREVER
        self._new[model].append(row)
        self._open[model][key] = row

    def close(self, model: type[Versioned], key: Key, block: int) -> None:
        """From ``block`` on, entity ``key`` has no version (e.g. a wallet unlinked from its investor)."""
        current = self._current(model, key)
        if current is not None:
            self._end(model, current, block)
        self._open[model][key] = None

    def _end(self, model: type[Versioned], row: Row, block: int) -> None:
        if "id" in row:
            self._closed[model][int(row["id"])] = block
        else:
            row["block_to"] = block

    def flush(self) -> None:
        """Write every new version and every closed one."""
        for model, rows in self._new.items():
            # A version opened and closed in the same block never was true: leave it out.
            kept = [row for row in rows if row["block_to"] > row["block_from"]]
            if kept:
                self._session.execute(insert(model), kept)
        for model, closed in self._closed.items():
            if closed:
                self._session.execute(
                    update(model), [{"id": row_id, "block_to": block} for row_id, block in closed.items()]
                )
        self._new.clear()
        self._closed.clear()
        self._open.clear()

    @staticmethod
    def _key_of(model: type[Versioned], row: Versioned) -> Key:
        return tuple(getattr(row, name) for name in model.key_columns)


def _as_row(entity: Versioned) -> Row:
    table = entity.__table__  # type: ignore[attr-defined]
    return {column.key: getattr(entity, column.key) for column in table.columns}


def chain_condition(model: type[Any], chain: str) -> ColumnElement[bool]:
    """The rows of ``model`` that belong to chain ``chain`` (by its own column, or by its asset)."""
    if hasattr(model, "chain"):
        return model.chain == chain  # type: ignore[no-any-return]
    return model.asset_id.in_(select(Asset.asset_id).where(Asset.chain == chain))  # type: ignore[no-any-return]


def undo_after(session: Session, chain: str, block: int) -> None:
    """Make every versioned projection of ``chain`` as it was at the end of ``block``."""
    for model in VERSIONED_MODELS:
        where = chain_condition(model, chain)
        session.execute(delete(model).where(and_(where, model.block_from > block)))
        session.execute(
            update(model)
            .where(and_(where, model.block_to > block, model.block_to != FOREVER))
            .values(block_to=FOREVER)
        )
