"""Batch operations: chunked to fit the blocks, checked before anything is sent, journaled, resumable.

- `journal`: each batch's (and issue's) transactions, written before they are submitted;
- `runner`: `BulkRunner` plans, dry-runs, journals and sends a batch, and resumes an interrupted one;
- `report`: `BatchReport`, what became of every item.
"""

from registry.bulk.journal import Journal, JournalEntry
from registry.bulk.report import BatchReport, ItemResult
from registry.bulk.runner import BulkProgress, BulkRunner

__all__ = ["BatchReport", "BulkProgress", "BulkRunner", "ItemResult", "Journal", "JournalEntry"]
