"""Bad parameters get an answer that names the method, the parameter and what it should be."""

from __future__ import annotations

import re

import pytest

PYTHON_INTERNALS = re.compile(
    r"\b[A-Z]\w*(Error|Exception)\b|Traceback|NoneType|object has no attribute|list index out of range"
    r"|object is not (subscriptable|iterable)|unhashable type"
)

BAD_PARAMS = [
    [],
    [None],
    [123],
    [-1],
    [True],
    ["zz"],
    ["0x1234"],
    ["0xzz"],
    [{}],
    [[]],
    [[None]],
    [{"from": 5, "to": "0x12", "gas": "lots"}],
    [{"address": ["0x1"], "topics": [[5]]}],
    [{"fromBlock": {"nope": 1}}],
    ["0x" + "00" * 20, "bogus"],
    ["0x" + "00" * 20, ["0x1"], {"blockHash": 5}],
    ["0x" + "00" * 20, {"0x12": {}}],
    [{"to": "0x" + "00" * 20}, "latest", {"0x" + "00" * 20: {"balance": "much"}}],
    [{"to": "0x" + "00" * 20}, "latest", {"0x" + "00" * 20: []}],
    ["0x" + "00" * 32, "0x" + "00" * 20, 7],
    ["0x00"] * 6,
]


def answer(rpc, method, params):
    return rpc.handle({"jsonrpc": "2.0", "id": 1, "method": method, "params": params})


def test_every_method_answers_bad_parameters_without_python_internals(rpc):
    for method in rpc.methods:
        for params in BAD_PARAMS:
            response = answer(rpc, method, params)
            if "error" not in response:
                continue
            error = response["error"]
            shown = f"{method}{params}: {error}"
            assert error["code"] != -32603, shown
            assert not PYTHON_INTERNALS.search(error["message"]), shown
            if error["code"] == -32602:
                assert error["message"].startswith(f"{method}: "), shown


@pytest.mark.parametrize(
    ("method", "params", "expected"),
    [
        (
            "eth_getBalance",
            ["0x1234"],
            "eth_getBalance: parameter 1 (address) must be a 20-byte address as 0x-prefixed hex "
            "(40 hex digits), got '0x1234'",
        ),
        ("eth_getBalance", [], "eth_getBalance: takes (address, block?); missing: address"),
        (
            "eth_getTransactionByBlockNumberAndIndex",
            ["latest"],
            "eth_getTransactionByBlockNumberAndIndex: takes (block, index); missing: index",
        ),
        ("eth_chainId", [1], "eth_chainId: takes no parameters, but 1 was sent"),
        (
            "eth_call",
            [{"to": "0x" + "00" * 20, "gas": "lots"}],
            "eth_call: parameter 1 (transaction): field 'gas' must be a hex quantity such as 0x1a, "
            "got 'lots'",
        ),
        (
            "eth_getBlockByNumber",
            ["newest"],
            "eth_getBlockByNumber: parameter 1 (block) must be a block number (hex quantity such as 0x1a), "
            "a tag (latest, earliest, pending, safe, finalized) or an object with blockHash or blockNumber, "
            "got 'newest'",
        ),
        (
            "eth_getLogs",
            [{"topics": [["0x12"]]}],
            "eth_getLogs: parameter 1 (filter): field 'topics': item 1: item 1 must be 32 bytes of "
            "0x-prefixed hex data (64 hex digits), got '0x12'",
        ),
        (
            "eth_getTransactionReceipt",
            [5],
            "eth_getTransactionReceipt: parameter 1 (transactionHash) must be 32 bytes of 0x-prefixed hex "
            "data, got 5",
        ),
    ],
)
def test_a_bad_parameter_is_named_with_what_is_expected(rpc, method, params, expected):
    error = answer(rpc, method, params)["error"]
    assert error["code"] == -32602
    assert error["message"] == expected


def test_params_that_are_not_an_array_are_refused_by_name(rpc):
    error = answer(rpc, "eth_getBalance", {"address": "0x" + "00" * 20})["error"]
    assert error["code"] == -32602
    assert (
        error["message"] == "eth_getBalance: params must be an array (positional parameters), got an object"
    )


@pytest.mark.parametrize(
    ("raw", "start"),
    [
        ("0x02c0", "cannot decode the raw transaction: "),
        ("0x", "cannot decode the raw transaction: "),
        ("0x12c0", "transaction type not supported: 0x12"),
    ],
)
def test_a_raw_transaction_that_does_not_decode_says_so_in_plain_words(rpc, raw, start):
    error = answer(rpc, "eth_sendRawTransaction", [raw])["error"]
    assert error["code"] == -32000
    assert error["message"].startswith(start)
    assert not PYTHON_INTERNALS.search(error["message"])
