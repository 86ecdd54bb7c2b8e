"""Chains and blocks over HTTP, and each embedded chain's JSON-RPC served by the same app."""

from __future__ import annotations

from .conftest import Api, problem


def test_the_chains_are_listed_with_their_ids_rpc_urls_and_heads(api: Api) -> None:
    listed = api.call("GET", "/chains", "auditor")
    assert listed.status_code == 200
    chains = {chain["name"]: chain for chain in listed.json()["items"]}
    assert chains["permissioned"]["chain_id"] == 771_001 and chains["permissionless"]["chain_id"] == 771_002
    for name, chain in chains.items():
        assert chain["backend"] == "embedded"
        assert chain["rpc_url"] == f"http://testserver/chains/{name}/rpc"
        assert chain["head"] == api.registry.chain(name).w3.eth.block_number
    assert api.call("GET", "/chains/permissioned", "investor").json()["name"] == "permissioned"


def test_the_json_rpc_answers_at_the_prefix_with_and_without_slash_and_needs_no_key(api: Api) -> None:
    request = {"jsonrpc": "2.0", "id": 1, "method": "eth_chainId"}
    for path in ("/chains/permissioned/rpc", "/chains/permissioned/rpc/"):
        answer = api.client.post(path, json=request)
        assert answer.status_code == 200 and answer.json()["result"] == hex(771_001)
    described = api.client.get("/chains/permissionless/rpc")
    assert described.json()["chainId"] == 771_002


def test_blocks_come_newest_first_in_pages_and_one_by_one(api: Api) -> None:
    head = api.registry.chain("permissioned").w3.eth.block_number
    assert head >= 2
    first = api.call("GET", "/chains/permissioned/blocks", "auditor", params={"limit": 2}).json()
    assert [block["number"] for block in first["items"]] == [head, head - 1]
    numbers = [block["number"] for block in first["items"]]
    cursor = first["next_cursor"]
    while cursor is not None:
        page = api.call(
            "GET", "/chains/permissioned/blocks", "auditor", params={"limit": 2, "cursor": cursor}
        )
        numbers += [block["number"] for block in page.json()["items"]]
        cursor = page.json()["next_cursor"]
    assert numbers == list(range(head, -1, -1))
    one = api.call("GET", f"/chains/permissioned/blocks/{head}", "auditor").json()
    assert one == first["items"][0]
    assert (
        one["hash"] == "0x" + bytes(api.registry.chain("permissioned").w3.eth.get_block(head)["hash"]).hex()
    )


def test_unknown_chains_blocks_and_cursors_are_refused(api: Api) -> None:
    assert problem(api.call("GET", "/chains/mainnet", "auditor"), 422, "validation-error")["field"] == "chain"
    missing = problem(api.call("GET", "/chains/permissioned/blocks/99999999", "auditor"), 404, "not-found")
    assert missing["resource"] == "block"
    bad = api.call("GET", "/chains/permissioned/blocks", "auditor", params={"cursor": "garbage!"})
    assert problem(bad, 422, "invalid-input")["field"] == "cursor"
    other = api.call("GET", "/chains/permissionless/blocks", "auditor", params={"limit": 1}).json()[
        "next_cursor"
    ]
    crossed = api.call("GET", "/chains/permissioned/blocks", "auditor", params={"cursor": other})
    assert problem(crossed, 422, "invalid-input")["field"] == "cursor"
    assert (
        problem(api.call("GET", "/chains/permissioned/blocks?limit=0", "auditor"), 422, "validation-error")[
            "field"
        ]
        == "limit"
    )
    problem(api.call("GET", "/chains"), 401, "unauthenticated")
