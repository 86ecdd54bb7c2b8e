"""CSV files of batch work: investors to onboard, holders to mint to. Every row is checked before anything
is sent, and every bad row is reported with its line number: a file with one bad row sends nothing.

Investors (``registry investors onboard --csv FILE``)::

    wallet,country,kyc_expires_at,accredited
    0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed,756,2027-12-31,yes
    0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359,276,,no

(one wallet per investor, once in the file; country the ISO 3166 numeric code; the optional expiry a
date (midnight UTC) or an ISO 8601 time (UTC unless it names a zone), empty for never; accredited and
professional optional: yes/no, true/false, 1/0 or empty).

Holders (``registry mint ASSET --csv FILE``)::

    to,amount
    0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed,100
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, Final

from registry.client.output import InputError

ADDRESS: Final = re.compile(r"^0x[0-9a-fA-F]{40}$")
COUNTRY: Final = re.compile(r"^[0-9]{1,3}$")
TRUE: Final = frozenset({"yes", "true", "1", "y"})
FALSE: Final = frozenset({"no", "false", "0", "n", ""})
INVESTOR_COLUMNS: Final = ("wallet", "country")
HOLDER_COLUMNS: Final = ("to", "amount")


@dataclass(frozen=True)
class Rows:
    """The checked rows of a file, as request items, with the line each came from."""

    items: list[dict[str, Any]]
    lines: list[int]


def _read(path: Path, required: tuple[str, ...]) -> list[tuple[int, dict[str, str]]]:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise InputError(f"cannot read {path}: {exc.strerror or exc}") from exc
    except UnicodeDecodeError as exc:
        raise InputError(f"{path} is not UTF-8 text: save it as CSV (UTF-8)") from exc
    reader = csv.DictReader(text.splitlines())
    header = [name.strip().lower() for name in reader.fieldnames or ()]
    missing = [name for name in required if name not in header]
    if missing:
        raise InputError(
            f"{path}:1: the header lacks the column(s) {', '.join(missing)}; "
            f"the file's first line must name the columns: {','.join(required)}"
        )
    rows = []
    for row in reader:
        values = {(key or "").strip().lower(): (value or "").strip() for key, value in row.items() if key}
        if any(values.values()):
            rows.append((reader.line_num, values))
    if not rows:
        raise InputError(f"{path} has no row below its header: nothing to do")
    return rows


def _problems(path: Path, problems: list[str]) -> None:
    if problems:
        shown = problems[:20]
        more = [f"... and {len(problems) - 20} more"] if len(problems) > 20 else []
        raise InputError(
            "\n".join(
                [
                    f"{path}: {len(problems)} bad row(s); nothing was sent: fix them and run again",
                    *shown,
                    *more,
                ]
            )
        )


def _expiry(value: str) -> str:
    """A date (midnight UTC) or an ISO 8601 time (UTC when it names no zone), with its zone."""
    try:
        if len(value) == 10:
            return f"{date.fromisoformat(value).isoformat()}T00:00:00+00:00"
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
        return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).isoformat()
    except ValueError:
        raise ValueError(f"kyc_expires_at {value!r} is not a date (YYYY-MM-DD) or an ISO 8601 time") from None


def read_investors(path: Path) -> Rows:
    """The investors of ``path`` as POST /investors/batch items.

    Raises:
        InputError: the file cannot be read, or a row is bad (every bad row named by its line).
    """
    problems: list[str] = []
    items: list[dict[str, Any]] = []
    lines: list[int] = []
    first_line: dict[str, int] = {}
    for line, row in _read(path, INVESTOR_COLUMNS):
        try:
            wallet = row["wallet"]
            if not ADDRESS.match(wallet):
                raise ValueError(f"wallet {wallet!r} is not an address (0x and 40 hex digits)")
            if (seen := first_line.setdefault(wallet.lower(), line)) != line:
                raise ValueError(f"wallet {wallet} is already on line {seen}")
            country = row["country"]
            if not COUNTRY.match(country) or not 1 <= int(country) <= 999:
                raise ValueError(f"country {country!r} is not an ISO 3166 numeric code (756 for Switzerland)")
            item: dict[str, Any] = {"wallet": wallet, "country": int(country)}
            if row.get("kyc_expires_at"):
                item["kyc_expires_at"] = _expiry(row["kyc_expires_at"])
            for flag in ("accredited", "professional"):
                value = row.get(flag, "").lower()
                if value not in TRUE | FALSE:
                    raise ValueError(f"{flag} {row.get(flag)!r} is not yes or no")
                item[flag] = value in TRUE
        except ValueError as exc:
            problems.append(f"{path}:{line}: {exc}")
            continue
        items.append(item)
        lines.append(line)
    _problems(path, problems)
    return Rows(items, lines)


def read_holders(path: Path) -> Rows:
    """The holders of ``path`` as POST /assets/{asset_id}/mint/batch items.

    Raises:
        InputError: the file cannot be read, or a row is bad (every bad row named by its line).
    """
    problems: list[str] = []
    items: list[dict[str, Any]] = []
    lines: list[int] = []
    for line, row in _read(path, HOLDER_COLUMNS):
        try:
            if not ADDRESS.match(row["to"]):
                raise ValueError(f"to {row['to']!r} is not an address (0x and 40 hex digits)")
            amount = Decimal(row["amount"])
            if not amount.is_finite() or amount <= 0:
                raise ValueError(f"amount {row['amount']!r} is not a positive number")
        except (ValueError, InvalidOperation) as exc:
            message = str(exc) if isinstance(exc, ValueError) else f"amount {row['amount']!r} is not a number"
            problems.append(f"{path}:{line}: {message}")
            continue
        items.append({"to": row["to"], "amount": row["amount"]})
        lines.append(line)
    _problems(path, problems)
    return Rows(items, lines)
