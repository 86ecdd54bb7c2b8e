"""One process at a time per chain folder, and how another process finds the one that has it.

Two processes writing one chain database would each build blocks on their own view of the
head and overwrite each other's canonical chain. So `EmbeddedChain.open` takes an exclusive
lock on ``<chain folder>/owner.lock`` (``flock``: the operating system releases it when the
process ends, even after ``kill -9``) and a second opener gets `ChainInUseError` at once.

The lock file also says who holds it: the process id and, once that process serves the
chain's JSON-RPC (``registry node``), its URL. A command that needs the chain while a node
serves it (``registry kyc register``) reads `holder` and sends its transaction to that URL
instead of opening the database.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

from registry.chain.errors import ChainInUseError

LOCK_FILE = "owner.lock"

try:
    import fcntl
except ImportError:  # pragma: no cover - not on POSIX: no cross-process protection
    fcntl = None  # type: ignore[assignment]


@dataclass(frozen=True)
class Holder:
    """The process that has a chain folder open."""

    pid: int | None
    url: str | None
    """Where it serves the chain's JSON-RPC, if it does."""


def _read(path: Path) -> Holder:
    try:
        document = json.loads(path.read_text() or "{}")
    except (OSError, ValueError):
        document = {}
    pid = document.get("pid")
    url = document.get("url")
    return Holder(pid=pid if isinstance(pid, int) else None, url=url if isinstance(url, str) else None)


def holder(folder: Path) -> Holder | None:
    """The process holding ``folder``'s lock, or None when no process has the chain open."""
    path = folder / LOCK_FILE
    if fcntl is None or not path.is_file():
        return None
    fd = os.open(path, os.O_RDONLY)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return _read(path)
        fcntl.flock(fd, fcntl.LOCK_UN)
        return None
    finally:
        os.close(fd)


class FolderLock:
    """The exclusive lock of one chain folder, held from `acquire` to `release`."""

    def __init__(self, folder: Path) -> None:
        self.path = folder / LOCK_FILE
        """The lock file."""
        self._fd: int | None = None

    def acquire(self) -> None:
        """Take the lock and record this process in the file.

        Raises:
            ChainInUseError: another process has the chain open; the message names it.
        """
        if fcntl is None:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            other = _read(self.path)
            serving = f", serving it at {other.url}" if other.url else ""
            raise ChainInUseError(
                f"the chain in {self.path.parent} is open in another process (pid {other.pid or 'unknown'}"
                f"{serving}); one process at a time may open a chain's folder: stop that process, or "
                "talk to it over JSON-RPC"
            ) from None
        self._fd = fd
        self._write(Holder(pid=os.getpid(), url=None))

    def advertise(self, url: str) -> None:
        """Record that this process serves the chain's JSON-RPC at ``url``."""
        self._write(Holder(pid=os.getpid(), url=url))

    def _write(self, entry: Holder) -> None:
        if self._fd is None:
            return
        os.ftruncate(self._fd, 0)
        os.pwrite(self._fd, json.dumps({"pid": entry.pid, "url": entry.url}).encode(), 0)

    def release(self) -> None:
        """Give the lock up (closing the file releases it)."""
        if self._fd is not None:
            fd, self._fd = self._fd, None
            os.ftruncate(fd, 0)
            os.close(fd)
