"""Logs are decoded from every artifact's ABI, so a new event of a contract needs no code here."""

from __future__ import annotations

from typing import Any

from eth_abi.abi import encode
from eth_utils.crypto import keccak
from web3 import Web3

from registry.artifacts import known_contracts, load_artifact
from registry.index.decoding import DecodedLog, EventSpec, decode_log, event_specs

ADDRESS = "0x1d00000000000000000000000000000000000001"  # its checksum form is all lowercase


def _sample(abi_type: str, seed: int) -> Any:
    if abi_type.endswith("[]"):
        return [_sample(abi_type[:-2], seed), _sample(abi_type[:-2], seed + 1)]
    if abi_type == "address":
        return "0x" + f"{seed + 1:040x}"
    if abi_type == "bool":
        return seed % 2 == 1
    if abi_type == "string":
        return f"text {seed}"
    if abi_type == "bytes":
        return bytes([seed]) * 3
    if abi_type.startswith("bytes"):
        return bytes([seed + 1]) * int(abi_type[5:])
    if abi_type.startswith("uint"):
        return (2 ** int(abi_type[4:] or 256) - 1) - seed
    if abi_type.startswith("int"):
        return -(seed + 1)
    raise AssertionError(f"no sample for {abi_type}")


def _log(topics: list[bytes], data: bytes) -> dict[str, Any]:
    return {
        "address": ADDRESS.lower(),
        "topics": ["0x" + t.hex() for t in topics],
        "data": "0x" + data.hex(),
        "blockNumber": "0x5",
        "blockHash": "0x" + "ab" * 32,
        "transactionHash": "0x" + "cd" * 32,
        "transactionIndex": "0x0",
        "logIndex": "0x2",
    }


def test_every_event_of_every_artifact_is_decoded_by_name() -> None:
    declared = {
        item["name"]
        for contract in known_contracts()
        for item in load_artifact(contract).abi
        if item.get("type") == "event"
    }
    specs = event_specs()
    assert {spec.name for spec in specs.values()} == declared
    for spec in specs.values():
        values = [_sample(abi_type, n) for n, (_, abi_type, _) in enumerate(spec.inputs)]
        topics = [spec.topic] + [
            encode([abi_type], [value])
            for (_, abi_type, indexed), value in zip(spec.inputs, values, strict=True)
            if indexed
        ]
        data = encode(
            [abi_type for _, abi_type, indexed in spec.inputs if not indexed],
            [value for (_, _, indexed), value in zip(spec.inputs, values, strict=True) if not indexed],
        )
        log = decode_log(_log(topics, data))
        assert (log.name, log.signature) == (spec.name, spec.signature)
        for (name, abi_type, _), value in zip(spec.inputs, values, strict=True):
            got = log.args[name]
            if abi_type == "address":
                assert got.lower() == value
            elif abi_type != "address[]":
                assert got == value, (spec.signature, name)


def test_json_keeps_wide_integers_exact_as_text_and_narrow_ones_as_numbers() -> None:
    spec = next(
        s
        for s in event_specs().values()
        if s.signature == "InvestorRegistered(uint32,address,uint16,uint8,uint40)"
    )
    data = encode(["uint16", "uint8", "uint40"], [756, 3, 2**40 - 1])
    topics = [spec.topic, encode(["uint32"], [7]), encode(["address"], [ADDRESS])]
    assert decode_log(_log(topics, data)).to_json() == {
        "investorId": 7,
        "wallet": ADDRESS,
        "country": 756,
        "attributes": 3,
        "kycExpiry": 2**40 - 1,
    }
    transfer = keccak(text="Transfer(address,address,uint256)")
    log = decode_log(
        _log(
            [transfer, encode(["address"], [ADDRESS]), encode(["address"], [ADDRESS])],
            encode(["uint256"], [2**255]),
        )
    )
    assert log.to_json()["value"] == str(2**255)


def test_a_log_no_artifact_declares_is_kept_with_its_topics_and_data() -> None:
    topic = keccak(text="SomethingNew(uint256)")
    log = decode_log(_log([topic], encode(["uint256"], [5])))
    assert isinstance(log, DecodedLog)
    assert (log.name, log.signature) == (None, None)
    assert log.args == {"topics": ["0x" + topic.hex()], "data": "0x" + encode(["uint256"], [5]).hex()}
    # A known topic whose data does not fit its declaration is kept raw too, not guessed.
    transfer = keccak(text="Transfer(address,address,uint256)")
    broken = decode_log(
        _log([transfer, encode(["address"], [ADDRESS]), encode(["address"], [ADDRESS])], b"\x01")
    )
    assert broken.name is None


def test_arrays_decode_as_lists_with_checksummed_addresses() -> None:
    signature = "Batch(address[],uint256[])"
    spec = EventSpec(
        "Batch",
        signature,
        keccak(text=signature),
        (("to", "address[]", False), ("amount", "uint256[]", False)),
    )
    wallets = ["0x" + "ab" * 20, ADDRESS]
    args = spec.decode([], encode(["address[]", "uint256[]"], [wallets, [1, 2**200]]))
    assert args == {"to": [Web3.to_checksum_address(w) for w in wallets], "amount": [1, 2**200]}
