"""The page against the documented formats of the routes built alongside the API (the event stream, the
validators, the interventions, the demos, the cap table), whether or not this server has them yet: the
browser's requests to those routes are answered by the test with bodies of those formats (Playwright's
request interception), everything else by the real server. This checks the page's own work: parsing the
event stream, reconnecting with Last-Event-ID, drawing seals, refusals, rollbacks, the intervention log,
a demo run and the cap-table chart. The end-to-end tests in test_dashboard.py run the real routes.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

import pytest
from playwright.sync_api import Page, Request, Route, expect

from .conftest import CONTRAST, TIMEOUT_MS, Dashboard, Watched

expect.set_options(timeout=TIMEOUT_MS)

VALIDATORS = ["0x" + digit * 40 for digit in "1234"]
HASH = {
    name: "0x" + digit * 64 for name, digit in (("a", "a"), ("b", "b"), ("c", "c"), ("d", "d"), ("e", "e"))
}
WALLETS = ["0x" + digit * 40 for digit in "567"]
PROPOSAL = "0x" + "9" * 64
"""An intervention's id (its EIP-712 digest)."""
FAR = 100_000
"""Block numbers of the served stream: far above the real chains' heads."""


def _message(kind: str, number: int, data: dict[str, Any]) -> str:
    return f"event: {kind}\ndata: {json.dumps(data)}\nid: {number}\n\n"


FIRST = "".join(
    [
        ": keep-alive\n\n",
        _message(
            "block",
            1,
            {
                "chain": "permissioned",
                "number": FAR,
                "hash": HASH["a"],
                "timestamp": "2026-11-30T12:00:00Z",
                "tx_count": 2,
                "sealers": VALIDATORS[:3],
                "validators": VALIDATORS,
            },
        ),
        _message(
            "block",
            2,
            {
                "chain": "permissionless",
                "number": FAR,
                "hash": HASH["b"],
                "timestamp": "2026-11-30T12:00:01Z",
                "tx_count": 1,
                "sealers": [],
                "validators": [],
            },
        ),
        _message(
            "token-event",
            3,
            {
                "chain": "permissionless",
                "asset_id": "bond-00000000000000000000",
                "symbol": "OPEN31",
                "event": "Transfer",
                "block_number": FAR,
                "tx_hash": HASH["c"],
                "log_index": 0,
                "args": {"from": WALLETS[0], "to": WALLETS[1], "value": "25"},
            },
        ),
        _message(
            "refusal",
            4,
            {
                "chain": "permissioned",
                "sender": WALLETS[2],
                "error": "SenderNotVerified",
                "reason": "the sender is not a verified investor of this chain: a KYC provider registers it",
            },
        ),
        _message("rollback", 5, {"chain": "permissioned", "first_changed_block": FAR, "new_head": FAR - 1}),
        _message(
            "intervention",
            6,
            {
                "chain": "permissioned",
                "id": PROPOSAL,
                "kind": "rollback",
                "status": "executed",
                "signers": VALIDATORS[:3],
                "dropped": [HASH["c"]],
                "replayed": [HASH["d"]],
                "excluded": [HASH["e"]],
            },
        ),
    ]
)
"""The first connection's messages (the connection then ends, as a dropped one does)."""

SECOND = ": dropped 3 event(s): this reader fell behind\n\n" + _message(
    "block",
    7,
    {
        "chain": "permissioned",
        "number": FAR,
        "hash": HASH["d"],
        "timestamp": "2026-11-30T12:00:05Z",
        "tx_count": 1,
        "sealers": VALIDATORS[1:],
        "validators": VALIDATORS,
    },
)
"""What the reconnection gets: the block that replaced the rolled-back one."""


@dataclass
class Served:
    """What the test serves in place of the routes, and what the page asked."""

    spec: dict[str, Any]
    streams: list[dict[str, str]] = field(default_factory=list)
    urls: list[str] = field(default_factory=list)
    demo_polls: int = 0

    def install(self, page: Page) -> None:
        page.route(re.compile(r"/openapi\.json$"), lambda route: route.fulfill(json=self.spec))
        page.route(re.compile(r"/events(\?.*)?$"), self.events)
        page.route(
            re.compile(r"/chains/permissioned/validators$"),
            lambda route: route.fulfill(
                json={"chain": "permissioned", "validators": VALIDATORS, "threshold": 3, "history": []}
            ),
        )
        page.route(
            re.compile(r"/chains/permissioned/interventions(\?.*)?$"),
            lambda route: route.fulfill(json={"items": [], "next_cursor": None}),
        )
        page.route(re.compile(r"/demos$"), self.demos)
        page.route(re.compile(r"/demos/bond-lifecycle$"), self.start_demo)
        page.route(re.compile(r"/demos/runs/run-1$"), self.demo_run)
        page.route(re.compile(r"/cap-table(\?.*)?$"), self.cap_table)

    def events(self, route: Route, request: Request) -> None:
        self.urls.append(request.url)
        self.streams.append(request.headers)
        body = FIRST if len(self.streams) == 1 else SECOND if len(self.streams) == 2 else ": keep-alive\n\n"
        route.fulfill(status=200, headers={"Content-Type": "text/event-stream"}, body=body)

    def demos(self, route: Route) -> None:
        route.fulfill(
            json={
                "items": [
                    {
                        "name": "bond-lifecycle",
                        "summary": "The same bond on both chains, issue to redemption.",
                        "shows": "what KYC refuses on one chain and lets through on the other",
                    }
                ],
                "next_cursor": None,
            }
        )

    def start_demo(self, route: Route, request: Request) -> None:
        assert request.method == "POST"
        assert request.headers.get("idempotency-key")
        route.fulfill(status=202, json={"run_id": "run-1"})

    def demo_run(self, route: Route) -> None:
        self.demo_polls += 1
        steps = [
            {"chain": "permissioned", "step": "issue", "status": "done", "detail": "block 12"},
            {"chain": "permissionless", "step": "issue", "status": "done", "detail": "block 9"},
        ]
        done = self.demo_polls > 1
        route.fulfill(
            json={
                "run_id": "run-1",
                "name": "bond-lifecycle",
                "status": "done" if done else "running",
                "steps": steps if done else steps[:1],
                "result": {
                    "columns": ["step", "permissioned", "permissionless"],
                    "rows": [["sell to an unchecked wallet", "refused", "accepted"]],
                }
                if done
                else None,
            }
        )

    def cap_table(self, route: Route) -> None:
        holders = [
            {
                "wallet": WALLETS[0],
                "balance": "600",
                "frozen": "0",
                "account_frozen": False,
                "share": "0.6",
                "investor": {"investor_id": 1, "country": 756, "accredited": True, "kyc_state": "verified"},
            },
            {
                "wallet": WALLETS[1],
                "balance": "400",
                "frozen": "400",
                "account_frozen": False,
                "share": "0.4",
                "investor": {"investor_id": 2, "country": 276, "accredited": False, "kyc_state": "expired"},
            },
        ]
        route.fulfill(
            json={
                "asset_id": "x",
                "block": {"number": 42, "hash": HASH["a"], "timestamp": "2026-11-30T12:00:00Z"},
                "total_supply": "1000",
                "paused": False,
                "items": holders,
                "next_cursor": None,
            }
        )


def served(dashboard: Dashboard) -> Served:
    """The real OpenAPI document plus the routes served by the test (with the roles they document)."""
    spec = dashboard.client.get("/openapi.json").json()
    every = ["admin", "issuer", "agent", "kyc-provider", "validator", "investor", "auditor"]
    for path, method, roles in (
        ("/events", "get", every),
        ("/chains/{chain}/validators", "get", every),
        ("/chains/{chain}/interventions", "get", every),
        ("/demos", "get", every),
        ("/demos/{name}", "post", ["admin", "issuer"]),
        ("/demos/runs/{run_id}", "get", every),
        ("/assets/{asset_id}/cap-table", "get", every),
    ):
        spec["paths"].setdefault(path, {})[method] = {"x-roles": roles, "responses": {}}
    return Served(spec=spec)


def test_the_stream_is_parsed_drawn_and_resumed_with_last_event_id(
    dashboard: Dashboard, watched: Watched
) -> None:
    fake = served(dashboard)
    fake.install(watched.page)
    token = dashboard.tokens["auditor"]
    watched.open_with(dashboard.url, token)
    page = watched.page
    block = page.locator(f'#chain-permissioned .blocks li[data-number="{FAR}"]')
    # The rolled-back block is struck through, then replaced by the block of the reconnection.
    expect(block).to_have_attribute("data-hash", HASH["d"])
    assert len(fake.streams) >= 2
    first, second = fake.streams[0], fake.streams[1]
    assert first["authorization"] == f"Bearer {token}" == second["authorization"]
    assert "last-event-id" not in first and second["last-event-id"] == "6"
    assert all(token not in url for url in fake.urls)
    # Whose seals it carries: V2, V3, V4 of four validators, V1 missing.
    expect(block).to_contain_text("seals 3/4")
    expect(block.locator(".seal.on")).to_have_text(["V2", "V3", "V4"])
    expect(block.locator(".seal.off")).to_have_text(["V1 (no seal)"])
    expect(page.locator("#chain-permissioned .validators-body")).to_contain_text(
        "4 validators, 3 seals needed"
    )
    expect(page.locator("#stream-status")).to_have_attribute("data-state", re.compile("live|down"))
    # The open chain's block carries no seal; its token event shows in its transactions.
    open_block = page.locator(f'#chain-permissionless .blocks li[data-number="{FAR}"]')
    expect(open_block).to_contain_text("1 tx")
    expect(open_block.locator(".seal")).to_have_count(0)
    expect(page.locator("#chain-permissionless .txs li").first).to_contain_text("OPEN31 Transfer")
    expect(page.locator("#chain-permissionless .txs li").first).to_contain_text("value 25")
    # The refusal in plain words.
    expect(page.locator("#chain-permissioned .refusals li").first).to_contain_text(
        "not a verified investor of this chain"
    )
    # The intervention log: who signed, what was dropped, replayed and excluded.
    row = page.locator(f'#interventions-body tr[data-intervention="{PROPOSAL}"]')
    expect(row).to_have_attribute("data-status", "executed")
    expect(row).to_contain_text("V1, V2, V3")
    for cell, value in zip(row.locator("td").all()[4:], (HASH["c"], HASH["d"], HASH["e"]), strict=True):
        expect(cell).to_have_text(f"{value[:6]}…{value[-4:]}")
    watched.screenshot("contract-stream")
    assert page.evaluate(CONTRAST) == []
    assert watched.errors == []


def test_a_demo_run_shows_its_steps_and_result_and_the_cap_table_its_chart(
    dashboard: Dashboard, watched: Watched
) -> None:
    issued = dashboard.call(
        "POST",
        "/assets",
        dashboard.tokens["issuer"],
        json={"kind": "cash", "chain": "permissioned", "terms": {"name": "Chart USD", "symbol": "CHRT"}},
    )
    assert issued.status_code == 201, issued.text
    fake = served(dashboard)
    fake.install(watched.page)
    watched.open_with(dashboard.url, dashboard.tokens["admin"])
    page = watched.page
    # The cap table of the chosen asset: a bar per holder, longest for the largest, frozen ones marked.
    page.locator("#asset-select").select_option(issued.json()["asset"]["asset_id"])
    bars = page.locator("#cap-table svg.bars rect")
    expect(bars).to_have_count(2)
    widths = [float(bars.nth(i).get_attribute("width") or 0) for i in range(2)]
    assert widths[0] > widths[1] > 0
    assert widths[1] / widths[0] == pytest.approx(400 / 600, rel=0.01)
    expect(bars.nth(1)).to_have_class("frozen")
    expect(page.locator("#cap-table")).to_contain_text("as of block 42")
    expect(page.locator(f'#cap-table tr[data-wallet="{WALLETS[1]}"] .kyc-expired')).to_have_text("expired")
    page.locator("#assets").scroll_into_view_if_needed()
    watched.screenshot("contract-cap-table")
    # A demo from its button, with the keyboard: its steps, then its result table.
    button = page.get_by_role("button", name="Run “bond-lifecycle”")
    expect(button).to_be_enabled()
    button.focus()
    page.keyboard.press("Enter")
    expect(page.locator("#demo-run")).to_have_attribute("data-status", "done")
    expect(page.locator("#demo-steps li")).to_have_count(2)
    expect(page.locator("#demo-result tbody tr").first).to_contain_text("refused")
    expect(button).to_be_enabled()
    watched.screenshot("contract-demo")
    assert page.evaluate(CONTRAST) == []
    assert watched.errors == []
