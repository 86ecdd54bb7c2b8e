"""An asset's events over HTTP: every indexed token event with block, transaction hash and log index,
oldest first, in pages, filtered by name and block range; every role reads; refusals named."""

from __future__ import annotations

from typing import Any

from .conftest import Api, problem
from .ops import indexed, iso, issue_stock, now, travel


def events(api: Api, path: str, role: str = "auditor", **params: Any) -> dict[str, Any]:
    response = api.call("GET", path, role, params=params)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def test_an_assets_events_in_pages_by_name_and_block(api: Api) -> None:
    stock = issue_stock(api)
    investor, other = stock.holders
    record = now(api, stock.chain) + 1_000
    declared = api.call(
        "POST", stock.path("/dividends"), "issuer", json={"record_date": iso(record), "amount": "40"}
    )
    assert declared.status_code == 201, declared.text
    travel(api, stock.chain, record + 1)
    claimed = api.call("POST", stock.path("/dividends/0/claim"), "investor", json={})
    assert claimed.status_code == 200, claimed.text

    path = stock.path("/events")
    everything = events(api, path, limit=500)
    assert everything["next_cursor"] is None
    items = everything["items"]
    names = [item["event"] for item in items]
    assert names.count("Transfer") == 2 and "DividendDeclared" in names and names[-1] == "DividendClaimed"
    positions = [(item["block_number"], item["log_index"]) for item in items]
    assert positions == sorted(positions) and len(set(positions)) == len(positions)
    last = items[-1]
    assert last["tx_hash"] == claimed.json()["transaction"]["hash"]
    assert last["block_number"] == claimed.json()["transaction"]["block_number"]
    assert last["address"] == stock.token.address and last["chain"] == stock.chain
    assert last["args"]["holder"] == investor and last["args"]["amount"] == "30000000"
    assert last["signature"].startswith("DividendClaimed(")
    mints = [item["args"] for item in items if item["event"] == "Transfer"]
    assert [(m["to"], m["value"]) for m in mints] == [(investor, "30"), (other, "10")]

    # One event a page, each page continuing after the last: the same events, in the same order.
    paged: list[dict[str, Any]] = []
    cursor = None
    while True:
        page = events(api, path, "investor", limit=1, **({"cursor": cursor} if cursor else {}))
        paged += page["items"]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert paged == items

    only = events(api, path, event=["Transfer", "DividendClaimed"])["items"]
    assert [item["event"] for item in only] == ["Transfer", "Transfer", "DividendClaimed"]
    block = last["block_number"]
    ranged = events(api, path, from_block=block, to_block=block)["items"]
    assert ranged and all(item["block_number"] == block for item in ranged)
    assert events(api, path, from_block=block + 1)["items"] == []


def test_refusals_of_the_events_list(api: Api) -> None:
    stock = issue_stock(api, holdings=(1,))
    path = stock.path("/events")
    unknown = problem(
        api.call("GET", "/assets/stock-00000000000000000000/events", "auditor"), 404, "not-found"
    )
    assert unknown["resource"] == "asset"
    reversed_range = api.call("GET", path, "auditor", params={"from_block": 9, "to_block": 3})
    assert problem(reversed_range, 422, "invalid-input")["field"] == "to_block"
    bad_cursor = api.call("GET", path, "auditor", params={"cursor": "garbage"})
    assert problem(bad_cursor, 422, "invalid-input")["field"] == "cursor"
    # A cursor of another filter is not this list's.
    indexed(api, stock.chain)
    first = events(api, path, limit=1)
    assert first["next_cursor"] is not None
    other_filter = api.call(
        "GET", path, "auditor", params={"cursor": first["next_cursor"], "event": "Paused"}
    )
    problem(other_filter, 422, "invalid-input")
    too_big = api.call("GET", path, "auditor", params={"limit": 501})
    assert problem(too_big, 422, "validation-error")["field"] == "limit"
