"""What became of a batch, item by item: which landed (and in which transaction), which failed and why,
which were never sent."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from registry.custody.batches import item_ranges

ItemStatus = Literal["landed", "reverted", "rejected", "not_landed", "not_sent"]
"""An item's fate: its transaction was mined; reverted; refused by the node; sent and not mined by the
deadline (it may still land: resume the batch to find out); never sent because the batch stopped."""


@dataclass(frozen=True)
class ItemResult:
    """One item of a batch."""

    index: int
    """Its position in the caller's list."""
    status: ItemStatus
    tx_hash: str | None = None
    """The transaction that carried it (0x-hex), once signed."""
    block_number: int | None = None
    """The block it landed in."""
    error: str | None = None
    """Why its transaction did not land."""
    value: int | None = None
    """What the item produced, when the operation says (a batch registration: the investor id)."""

    def to_json(self) -> dict[str, Any]:
        """JSON form."""
        return {
            "index": self.index,
            "status": self.status,
            "tx_hash": self.tx_hash,
            "block_number": self.block_number,
            "error": self.error,
            "value": self.value,
        }


@dataclass(frozen=True)
class BatchReport:
    """A batch operation's items, in the caller's order, and the id that resumes it."""

    batch_id: str
    operation: str
    chain: str
    items: tuple[ItemResult, ...]
    transactions: int
    """How many transactions carry the items."""
    gas_used: int
    """Gas of the transactions that landed in this run."""

    @property
    def ok(self) -> bool:
        """True when every item landed."""
        return all(item.status == "landed" for item in self.items)

    def positions(self, *statuses: ItemStatus) -> list[int]:
        """The positions of the items with one of ``statuses``."""
        return [item.index for item in self.items if item.status in statuses]

    @property
    def landed(self) -> list[int]:
        """Items that landed."""
        return self.positions("landed")

    @property
    def failed(self) -> list[int]:
        """Items whose transaction reverted, was refused, or did not land in time."""
        return self.positions("reverted", "rejected", "not_landed")

    @property
    def not_sent(self) -> list[int]:
        """Items never sent."""
        return self.positions("not_sent")

    @property
    def block_number(self) -> int | None:
        """The highest block an item landed in (what to wait for in the index), None if none landed."""
        blocks = [item.block_number for item in self.items if item.block_number is not None]
        return max(blocks) if blocks else None

    def summary(self) -> str:
        """One paragraph: how many items landed, failed (first reason) and were not sent, with positions."""
        parts = [f"{self.operation} {self.batch_id} on the {self.chain} chain, {len(self.items)} items"]
        for label, positions in (
            ("landed", self.landed),
            ("failed", self.failed),
            ("not sent", self.not_sent),
        ):
            if positions:
                parts.append(f"{len(positions)} {label} (items {item_ranges(positions)})")
        reasons = list(dict.fromkeys(item.error for item in self.items if item.error))
        if reasons:
            parts.append(f"reason: {reasons[0]}")
        return "; ".join(parts)

    def to_json(self) -> dict[str, Any]:
        """JSON form."""
        return {
            "batch_id": self.batch_id,
            "operation": self.operation,
            "chain": self.chain,
            "ok": self.ok,
            "transactions": self.transactions,
            "gas_used": self.gas_used,
            "items": [item.to_json() for item in self.items],
        }
