"""Choosing a backend: argument > environment > embedded default, announced; external nodes."""

from __future__ import annotations

import logging

import pytest

from registry.chain import connect
from registry.chain.backend import EmbeddedBackend
from registry.chain.errors import ChainConnectionError, ImmutableChainError, NotSupportedByBackendError
from registry.chain.events import NewBlock, Rollback
from registry.chain.external import ExternalBackend
from registry.chain.node.chain import EmbeddedChain
from registry.chain.node.modes import PermissionlessMode
from registry.chain.rpc.dispatcher import RpcDispatcher
from registry.chain.rpc.server import RpcServerThread
from registry.errors import ConfigurationError
from registry.settings import load_settings

from .conftest import free_port, sign


@pytest.fixture
def settings(tmp_path, monkeypatch):
    monkeypatch.delenv("REGISTRY_PERMISSIONLESS_RPC_URL", raising=False)
    monkeypatch.delenv("REGISTRY_PERMISSIONED_RPC_URL", raising=False)
    return load_settings(data_dir=tmp_path)


@pytest.fixture
def node(tmp_path):
    """Another embedded chain served over HTTP, standing in for an external node."""
    chain = EmbeddedChain.open(PermissionlessMode(), data_dir=None, chain_id=31_337, sealing="instant")
    with RpcServerThread(RpcDispatcher(chain)) as server:
        yield chain, server.url
    chain.close()


def test_default_is_the_embedded_chain_in_the_data_directory_and_says_why(settings, caplog):
    caplog.set_level(logging.INFO, logger="registry.chain.backend")
    with connect("permissionless", settings) as handle:
        assert isinstance(handle.backend, EmbeddedBackend)
        assert handle.origin == "default"
        assert handle.w3.eth.chain_id == settings.chain_id("permissionless")
        assert handle.embedded is not None
        assert (settings.data_dir / "chains" / "permissionless" / "chain.sqlite3").is_file()
        assert "REGISTRY_PERMISSIONLESS_RPC_URL is not set" in handle.announcement
    assert handle.announcement in caplog.text


def test_environment_url_selects_the_external_node(settings, node, monkeypatch):
    _, url = node
    monkeypatch.setenv("REGISTRY_PERMISSIONLESS_RPC_URL", url)
    with connect("permissionless", load_settings(data_dir=settings.data_dir)) as handle:
        assert isinstance(handle.backend, ExternalBackend)
        assert handle.origin == "environment"
        assert handle.chain_id == 31_337
        assert "REGISTRY_PERMISSIONLESS_RPC_URL" in handle.announcement
        with pytest.raises(NotSupportedByBackendError, match="not supported by this backend"):
            handle.interventions()
        with pytest.raises(NotSupportedByBackendError, match="not supported by this backend"):
            handle.validator_votes()


def test_explicit_argument_beats_the_environment(settings, node, monkeypatch):
    _, url = node
    monkeypatch.setenv("REGISTRY_PERMISSIONLESS_RPC_URL", "http://127.0.0.1:1")
    environment_settings = load_settings(data_dir=settings.data_dir)
    with connect("permissionless", environment_settings, rpc_url=url) as handle:
        assert handle.origin == "argument"
        assert handle.chain_id == 31_337
    with connect("permissionless", environment_settings, embedded=True, in_memory=True) as handle:
        assert handle.origin == "argument"
        assert isinstance(handle.backend, EmbeddedBackend)
    with pytest.raises(ConfigurationError, match="choose one"):
        connect("permissionless", environment_settings, rpc_url=url, embedded=True)


def test_unreachable_node_is_an_error_not_a_silent_fallback(settings):
    with pytest.raises(ChainConnectionError, match="cannot reach"):
        connect("permissionless", settings, rpc_url=f"http://127.0.0.1:{free_port()}")


def test_unknown_chain_name(settings):
    with pytest.raises(ConfigurationError, match="permissioned, permissionless"):
        connect("mainnet", settings)


def test_permissionless_chain_answers_interventions_with_immutable(settings):
    with (
        connect("permissionless", settings, in_memory=True) as handle,
        pytest.raises(ImmutableChainError, match="immutable"),
    ):
        handle.interventions()


def test_permissioned_chain_connects_with_its_own_chain_id(settings):
    with connect("permissioned", settings, in_memory=True, sealing="instant") as handle:
        assert handle.name == "permissioned"
        assert handle.w3.eth.chain_id == settings.chain_id("permissioned")
        assert handle.interventions() is not None


def test_external_backend_reports_new_blocks_and_rollbacks(node):
    chain, url = node
    backend = ExternalBackend("permissionless", url, poll_interval=3600)
    try:
        backend._remember_head()
        sender = chain.dev_accounts[0].account
        hashes = [
            chain.send_raw_transaction(sign(sender, nonce=n, to=sender.address, chain_id=31_337))
            for n in range(3)
        ]
        events = backend.poll()
        assert all(isinstance(event, NewBlock) for event in events)
        assert [event.number for event in events if isinstance(event, NewBlock)] == [1, 2, 3]
        assert events[0] == NewBlock(number=1, hash=chain.get_header(1).hash, transaction_hashes=(hashes[0],))
        chain.rewind(1)
        chain.send_raw_transaction(sign(sender, nonce=1, to=sender.address, value=5, chain_id=31_337))
        events = backend.poll()
        assert events[0] == Rollback(
            first_changed_block=2, new_head_number=1, new_head_hash=chain.get_header(1).hash
        )
        assert [event.number for event in events[1:] if isinstance(event, NewBlock)] == [2]
        assert backend.poll() == []
    finally:
        backend.close()
