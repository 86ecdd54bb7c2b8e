"""The workshop dashboard end to end, in headless Debian chromium at 1280x720: it loads with an auditor's
key and no console error, shows blocks as the chains seal them, runs a demo from its button, and shows a
rollback in the intervention log with the cap table changed back. Screenshots go to build/screenshots/.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.registry_fixtures import make_world

from .conftest import CONTRAST, TIMEOUT_MS, Dashboard, Watched

expect.set_options(timeout=TIMEOUT_MS)

OPTIONAL_PANELS = {
    "GET /chains/{chain}/validators": "#chain-permissioned .validators-body",
    "GET /investors": "#investors-body",
    "GET /demos": "#demo-buttons",
    "GET /chains/{chain}/interventions": "#interventions-body",
    "GET /events": "#chain-permissioned .txs",
}
"""Routes built on other branches, and the part of the page that needs each."""


def test_the_page_and_its_files_are_public_hold_no_data_and_forbid_foreign_code(dashboard: Dashboard) -> None:
    page = dashboard.client.get("/")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    policy = page.headers["content-security-policy"]
    assert (
        "script-src 'self'" in policy
        and "connect-src 'self'" in policy
        and "frame-ancestors 'none'" in policy
    )
    assert 'src="/static/app.js"' in page.text
    for name, kind in (("app.js", "javascript"), ("app.css", "text/css")):
        asset = dashboard.client.get(f"/static/{name}")
        assert asset.status_code == 200 and kind in asset.headers["content-type"]
    # Nothing but what the files hold: no key, no address, no asset id in the page.
    assert not re.search(r"rk_[0-9a-f]{16}_", page.text) and not re.search(r"0x[0-9a-fA-F]{40}", page.text)
    assert dashboard.client.get("/static/../app.py").status_code == 404
    # The page is not an API operation: the OpenAPI document (and the role walk over it) ignores it.
    assert "/" not in dashboard.paths()


def test_the_page_loads_with_an_auditors_key_read_only_without_console_errors(
    dashboard: Dashboard, watched: Watched
) -> None:
    token = dashboard.tokens["auditor"]
    watched.open_with(dashboard.url, token)
    page = watched.page
    expect(page.locator("#key-help")).to_contain_text("Connected as auditor")
    expect(page.locator("#key-help")).to_contain_text("read-only")
    for chain in ("permissioned", "permissionless"):
        expect(page.locator(f"#chain-{chain} .blocks li[data-number]").first).to_be_visible()
        expect(page.locator(f"#chain-{chain} .chain-meta")).to_contain_text("chain id")
    expect(page.locator("#wallet-body .wallet-chain")).to_have_count(2)
    expect(page.locator("#wallet-body")).to_contain_text(f"{dashboard.url}/chains/permissioned/rpc")
    # No browser wallet here: the add buttons are disabled and the note says why.
    expect(page.locator("#wallet-body button").first).to_be_disabled()
    expect(page.locator("#wallet-note")).to_contain_text("No browser wallet")
    # The key is kept in this tab's session storage only, never in the URL or in local storage.
    assert token not in page.url
    assert page.evaluate("sessionStorage.getItem('registry.apiKey')") == token
    assert page.evaluate("localStorage.length") == 0
    # Panels whose route this server lacks say so; those it has do not.
    missing = set(dashboard.missing(*OPTIONAL_PANELS))
    for route, selector in OPTIONAL_PANELS.items():
        panel = expect(page.locator(selector))
        if route in missing:
            panel.to_contain_text("Not available on this server")
        else:
            panel.not_to_contain_text("Not available on this server")
    watched.screenshot("dashboard-auditor")
    # Every panel is reached from the keyboard through the section links; one screenshot each.
    for anchor in ("assets", "investors", "demos", "interventions", "wallet"):
        link = page.locator(f'nav.sections a[href="#{anchor}"]')
        link.focus()
        page.keyboard.press("Enter")
        expect(page.locator(f"#{anchor}")).to_be_in_viewport()
        watched.screenshot(f"dashboard-auditor-{anchor}")
    # Forgetting the key clears it and what it showed.
    page.get_by_role("button", name="Forget key").click()
    expect(page.locator("#key-help")).to_contain_text("Paste an API key")
    expect(page.locator("#chain-permissioned .blocks li[data-number]")).to_have_count(0)
    assert page.evaluate("sessionStorage.getItem('registry.apiKey')") is None
    assert watched.errors == []


def test_an_invalid_key_is_refused_in_words(dashboard: Dashboard, watched: Watched) -> None:
    watched.open_with(dashboard.url, "rk_0000000000000000_not-a-key")
    expect(watched.page.locator("#key-help")).to_contain_text("This key is not valid")
    expect(watched.page.locator("#chain-permissioned .blocks li[data-number]")).to_have_count(0)


def test_a_block_sealed_on_each_chain_appears_on_the_page(dashboard: Dashboard, watched: Watched) -> None:
    watched.open_with(dashboard.url, dashboard.tokens["auditor"])
    page = watched.page
    expect(page.locator("#key-help")).to_contain_text("Connected as auditor")
    for chain in ("permissioned", "permissionless"):
        issued = dashboard.call(
            "POST",
            "/assets",
            dashboard.tokens["issuer"],
            json={"kind": "cash", "chain": chain, "terms": {"name": f"Dash {chain}", "symbol": "DSH"}},
        )
        assert issued.status_code == 201, issued.text
        number = issued.json()["transaction"]["block_number"]
        block = page.locator(f'#chain-{chain} .blocks li[data-number="{number}"]')
        expect(block).to_contain_text(f"#{number}")
        expect(block).to_contain_text("1 tx")
    watched.screenshot("dashboard-blocks")
    assert watched.errors == []


def test_the_stream_shows_each_permissioned_block_with_its_seals(
    dashboard: Dashboard, watched: Watched
) -> None:
    dashboard.require("GET /events", "GET /chains/{chain}/validators")
    watched.open_with(dashboard.url, dashboard.tokens["auditor"])
    page = watched.page
    expect(page.locator("#stream-status")).to_have_attribute("data-state", "live")
    validators = dashboard.registry.governance.validators()
    expect(page.locator("#chain-permissioned .validators-body .seal")).to_have_count(len(validators))
    issued = dashboard.call(
        "POST",
        "/assets",
        dashboard.tokens["issuer"],
        json={"kind": "cash", "chain": "permissioned", "terms": {"name": "Sealed", "symbol": "SLD"}},
    )
    assert issued.status_code == 201, issued.text
    number = issued.json()["transaction"]["block_number"]
    block = page.locator(f'#chain-permissioned .blocks li[data-number="{number}"]')
    expect(block).to_contain_text("seals")
    expect(block.locator(".seal")).to_have_count(len(validators))
    threshold = dashboard.registry.governance.threshold()
    assert block.locator(".seal.on").count() >= threshold
    assert watched.errors == []


def test_an_auditor_sees_the_demo_buttons_disabled_with_the_roles_that_may_use_them(
    dashboard: Dashboard, watched: Watched
) -> None:
    dashboard.require("GET /demos", "POST /demos/{name}")
    watched.open_with(dashboard.url, dashboard.tokens["auditor"])
    page = watched.page
    buttons = page.locator("#demo-buttons button")
    expect(buttons.first).to_be_visible()
    for index in range(buttons.count()):
        expect(buttons.nth(index)).to_be_disabled()
    roles = dashboard.paths()["/demos/{name}"]["post"]["x-roles"]
    note = page.locator("#demos-note")
    for role in roles:
        expect(note).to_contain_text(role)
    expect(note).to_contain_text("this key is auditor")
    assert watched.errors == []


def _first_number(watched: Watched, chain: str) -> int:
    text = watched.page.locator(f"#chain-{chain} .blocks li[data-number]").first.get_attribute("data-number")
    assert text is not None
    return int(text)


def test_a_scenario_started_from_its_button_updates_both_chains(
    dashboard: Dashboard, watched: Watched
) -> None:
    dashboard.require("GET /demos", "POST /demos/{name}", "GET /demos/runs/{run_id}")
    watched.open_with(dashboard.url, dashboard.tokens["admin"])
    page = watched.page
    expect(page.locator("#key-help")).to_contain_text("Connected as admin")
    button = page.locator("#demo-buttons button").first
    expect(button).to_be_enabled()
    before = {chain: _first_number(watched, chain) for chain in ("permissioned", "permissionless")}
    button.focus()
    page.keyboard.press("Enter")
    run = page.locator("#demo-run")
    expect(page.locator("#demo-steps li").first).to_be_visible()
    expect(run).to_have_attribute("data-status", re.compile("done|failed"), timeout=10 * TIMEOUT_MS)
    page.locator("#demo-result").scroll_into_view_if_needed()
    watched.screenshot("dashboard-demo")
    expect(run).to_have_attribute("data-status", "done")
    expect(page.locator("#demo-result table tbody tr").first).to_be_visible()
    for chain, head in before.items():
        page.wait_for_function(
            "([chain, head]) => {"
            " const li = document.querySelector(`#chain-${chain} .blocks li[data-number]`);"
            " return li !== null && Number(li.dataset.number) > head; }",
            arg=[chain, head],
        )
    assert watched.errors == []


def _cap_table(watched: Watched) -> dict[str, str]:
    rows = watched.page.locator("#cap-table tbody tr")
    return {
        str(rows.nth(i).get_attribute("data-wallet")): rows.nth(i).locator("td.amount").first.inner_text()
        for i in range(rows.count())
    }


def test_a_rollback_shows_in_the_intervention_log_and_the_cap_table_changes_back(
    dashboard: Dashboard, watched: Watched
) -> None:
    dashboard.require(
        "GET /chains/{chain}/interventions",
        "POST /chains/{chain}/interventions",
        "POST /chains/{chain}/interventions/{id}/signatures",
        "GET /chains/{chain}/interventions/{id}",
        "POST /chains/{chain}/interventions/{id}/execute",
        "GET /assets/{asset_id}/cap-table",
    )
    registry = dashboard.registry
    world = make_world(registry, "permissioned")
    bond = world.bond("kyc")
    holder, thief = world.onboard(2)
    registry.tokens.mint(bond, holder.address, 100, sender=world.issuer)
    registry.wait_for_index("permissioned", registry.chain("permissioned").w3.eth.block_number)
    honest_head = int(registry.chain("permissioned").w3.eth.block_number)

    watched.open_with(dashboard.url, dashboard.tokens["auditor"])
    page = watched.page
    page.locator("#asset-select").select_option(bond)
    expect(page.locator(f'#cap-table tr[data-wallet="{holder.address}"] td.amount').first).to_have_text("100")
    before = _cap_table(watched)

    # The hack: a compromised issuer key mints to a wallet of the thief's.
    hack = registry.tokens.mint(bond, thief.address, 5000, sender=world.issuer)
    expect(page.locator(f'#cap-table tr[data-wallet="{thief.address}"] td.amount').first).to_have_text("5000")
    watched.screenshot("dashboard-hacked")

    validators = registry.governance.validators()
    paths = dashboard.paths()
    sign_roles = paths["/chains/{chain}/interventions/{id}/signatures"]["post"]["x-roles"]
    signers = {
        v: dashboard.key("validator", v) if "validator" in sign_roles else dashboard.tokens["admin"]
        for v in validators
    }
    propose_roles = paths["/chains/{chain}/interventions"]["post"]["x-roles"]
    proposer = signers[validators[0]] if "validator" in propose_roles else dashboard.tokens["admin"]
    proposed = dashboard.call(
        "POST",
        "/chains/permissioned/interventions",
        proposer,
        json={
            "kind": "rollback",
            "to_block": honest_head,
            "exclude": [hack.hash_hex],
            "reason": "a compromised issuer key minted to the thief",
        },
        headers={"Idempotency-Key": "dashboard-rollback-1"},
    )
    assert proposed.status_code in (200, 201, 202), proposed.text
    answer = proposed.json()
    proposal_id = answer.get("id", answer.get("intervention_id"))
    row = page.locator(f'#interventions-body tr[data-intervention="{proposal_id}"]')
    expect(row).to_contain_text("rollback")

    threshold = registry.governance.threshold()
    for number, validator in enumerate(validators[:threshold]):
        signed = dashboard.call(
            "POST",
            f"/chains/permissioned/interventions/{proposal_id}/signatures",
            signers[validator],
            json={"validator": validator},
            headers={"Idempotency-Key": f"dashboard-rollback-sign-{number}"},
        )
        assert signed.status_code in (200, 201, 202), signed.text
    status = dashboard.call("GET", f"/chains/permissioned/interventions/{proposal_id}", proposer).json()
    if status["status"] != "executed":
        executed = dashboard.call(
            "POST",
            f"/chains/permissioned/interventions/{proposal_id}/execute",
            dashboard.tokens["admin"],
            headers={"Idempotency-Key": "dashboard-rollback-execute"},
        )
        assert executed.status_code in (200, 201, 202), executed.text

    expect(row).to_have_attribute("data-status", "executed")
    expect(row).to_contain_text(hack.hash_hex[:6])
    expect(page.locator(f'#cap-table tr[data-wallet="{thief.address}"]')).to_have_count(0)
    expect(page.locator(f'#cap-table tr[data-wallet="{holder.address}"] td.amount').first).to_have_text("100")
    assert _cap_table(watched) == before
    watched.screenshot("dashboard-rolled-back")
    page.locator("#interventions").scroll_into_view_if_needed()
    watched.screenshot("dashboard-intervention-log")
    assert watched.errors == []


def test_the_open_chain_says_why_it_has_no_intervention(dashboard: Dashboard, watched: Watched) -> None:
    watched.open_with(dashboard.url, dashboard.tokens["auditor"])
    why = watched.page.locator("#interventions .why-none")
    expect(why).to_contain_text("nobody can freeze")
    expect(why).to_contain_text("final")


def test_connect_your_wallet_adds_each_chain_through_eip_3085(dashboard: Dashboard, watched: Watched) -> None:
    # A browser wallet as extensions provide it (EIP-1193 window.ethereum), recording what it is asked.
    watched.page.add_init_script(
        "window.asked = []; window.ethereum = { request: async (call) => { window.asked.push(call); "
        "return null; } };"
    )
    watched.open_with(dashboard.url, dashboard.tokens["auditor"])
    page = watched.page
    expect(page.locator("#key-help")).to_contain_text("Connected as auditor")
    chains = {
        chain["name"]: chain
        for chain in dashboard.call("GET", "/chains", dashboard.tokens["auditor"]).json()["items"]
    }
    for name in chains:
        card = page.locator(f'#wallet-body .wallet-chain[data-chain="{name}"]')
        button = card.get_by_role("button", name=f"Add {name} to my wallet")
        expect(button).to_be_enabled()
        button.focus()
        page.keyboard.press("Enter")
        expect(card).to_contain_text(f"{name} added to the wallet")
    asked = page.evaluate("window.asked")
    assert [call["method"] for call in asked] == ["wallet_addEthereumChain"] * len(chains)
    for call, chain in zip(asked, chains.values(), strict=True):
        (params,) = call["params"]
        assert params["chainId"] == hex(chain["chain_id"])
        assert params["rpcUrls"] == [f"{dashboard.url}/chains/{chain['name']}/rpc"]
        assert params["nativeCurrency"]["decimals"] == 18
    assert watched.errors == []


def test_investors_with_their_kyc_state_and_a_cap_table_with_its_chart(
    dashboard: Dashboard, watched: Watched
) -> None:
    dashboard.require("GET /investors", "GET /assets/{asset_id}/cap-table")
    registry = dashboard.registry
    world = make_world(registry, "permissioned")
    stock = world.stock("kyc")
    large, small = world.onboard(2)
    registry.tokens.mint(stock, large.address, 300, sender=world.issuer)
    minted = registry.tokens.mint(stock, small.address, 100, sender=world.issuer)
    registry.wait_for_index("permissioned", minted.block_number)

    watched.open_with(dashboard.url, dashboard.tokens["auditor"])
    page = watched.page
    for wallet in (large.address, small.address):
        row = page.locator("#investors-body tr", has_text=f"{wallet[:6]}…{wallet[-4:]}")
        expect(row).to_contain_text("verified")
    page.locator("#asset-select").select_option(stock)
    expect(page.locator("#asset-terms")).to_contain_text("ACMS")
    expect(page.locator(f'#cap-table tr[data-wallet="{large.address}"] td.amount').first).to_have_text("300")
    expect(page.locator(f'#cap-table tr[data-wallet="{small.address}"] td.amount').first).to_have_text("100")
    bars = page.locator("#cap-table svg.bars rect")
    expect(bars).to_have_count(2)
    widths = [float(bars.nth(i).get_attribute("width") or 0) for i in range(2)]
    assert widths[0] == pytest.approx(3 * widths[1], rel=0.01)
    # A transfer moves the bars: the cap table follows the chain without a reload.
    moved = registry.tokens.transfer(stock, small.address, 50, sender=large.address)
    registry.wait_for_index("permissioned", moved.block_number)
    expect(page.locator(f'#cap-table tr[data-wallet="{small.address}"] td.amount').first).to_have_text("150")
    page.locator("#assets").scroll_into_view_if_needed()
    watched.screenshot("dashboard-cap-table")
    assert watched.errors == []


def test_readable_on_a_projector_and_usable_with_the_keyboard(dashboard: Dashboard, watched: Watched) -> None:
    watched.open_with(dashboard.url, dashboard.tokens["auditor"])
    page = watched.page
    expect(page.locator("#key-help")).to_contain_text("Connected as auditor")
    expect(page.locator("#wallet-body .wallet-chain")).to_have_count(2)
    # WCAG's enhanced contrast (7:1) for every text, and nothing under 14 px.
    assert page.evaluate(CONTRAST) == []
    # Tab walks the header, the section links, then the panels; the focus is always visible. (A reload
    # starts from the top of the page: the key is kept for the tab.)
    page.reload()
    expect(page.locator("#key-help")).to_contain_text("Connected as auditor")
    order: list[str] = []
    for _ in range(12):
        page.keyboard.press("Tab")
        focused = page.evaluate(
            "() => { const e = document.activeElement; const s = getComputedStyle(e);"
            " return [e.tagName, e.id || e.textContent.trim(), s.outlineStyle, s.outlineWidth]; }"
        )
        assert focused[2] == "solid" and focused[3] == "4px", (focused, order)
        order.append(f"{focused[0]} {focused[1]}")
    assert order[:9] == [
        "A Skip to the chains",
        "INPUT api-key",
        "BUTTON Connect",
        "BUTTON forget-key",
        "A Chains",
        "A Assets",
        "A Investors",
        "A Demos",
        "A Interventions",
    ]
    # The skip link moves the focus to the chains.
    page.reload()
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"
    assert watched.errors == []
