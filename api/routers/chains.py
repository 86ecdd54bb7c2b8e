"""The chains and their blocks, read through each chain's `Web3` (embedded or an external node)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request
from web3.exceptions import BlockNotFound

from api.deps import PageDep, RegistryDep
from api.errors import not_found
from api.schemas.chains import BlockPublic, BlocksPublic, ChainPublic, ChainsPublic
from api.schemas.common import ChainName, decode_cursor, encode_cursor
from api.security import EVERY_ROLE, allow
from registry.chain.names import CHAIN_NAMES
from registry.errors import BlockNotIndexedError, InvalidInputError
from registry.index import queries
from registry.runtime import Registry

TAG = {
    "name": "chains",
    "description": "The registry's two chains (permissioned and permissionless) and their blocks. "
    "Each embedded "
    "chain's JSON-RPC is served by this server at /chains/{name}/rpc, for cast, ethers, web3.py and wallets "
    "(no key needed there).",
}

router = APIRouter(prefix="/chains", tags=["chains"])

Chain = Annotated[ChainName, Path(description="The chain: permissioned or permissionless.")]


def rpc_url(request: Request, name: str) -> str:
    """Where this server serves chain ``name``'s JSON-RPC."""
    return f"{str(request.base_url).rstrip('/')}/chains/{name}/rpc"


def _chain(registry: Registry, request: Request, name: str) -> ChainPublic:
    handle = registry.chain(name)
    with registry.db.read() as session:
        try:
            indexed: int | None = queries.index_head(session, handle.name).number
        except BlockNotIndexedError:
            indexed = None
    embedded = handle.embedded is not None
    return ChainPublic(
        name=handle.name,
        chain_id=handle.chain_id,
        backend="embedded" if embedded else "external",
        rpc_url=rpc_url(request, handle.name) if embedded else None,
        head=int(handle.w3.eth.block_number),
        indexed_head=indexed,
    )


@router.get(
    "",
    dependencies=[allow(*EVERY_ROLE)],
    summary="List the chains",
    description="Each open chain with its chain id, backend, JSON-RPC URL, head and indexed head.",
)
def list_chains(registry: RegistryDep, request: Request) -> ChainsPublic:
    """List the chains."""
    names = [name for name in CHAIN_NAMES if name in registry.context.chains]
    return ChainsPublic(items=[_chain(registry, request, name) for name in names], next_cursor=None)


@router.get(
    "/{chain}",
    dependencies=[allow(*EVERY_ROLE)],
    summary="One chain",
    description="A chain's id, backend, JSON-RPC URL, head and indexed head.",
)
def get_chain(chain: Chain, registry: RegistryDep, request: Request) -> ChainPublic:
    """One chain."""
    return _chain(registry, request, chain)


@router.get(
    "/{chain}/blocks",
    dependencies=[allow(*EVERY_ROLE)],
    summary="List a chain's blocks",
    description="Blocks newest first, from the head (or from the cursor's block down).",
)
def list_blocks(chain: Chain, registry: RegistryDep, page: PageDep) -> BlocksPublic:
    """List a chain's blocks."""
    w3 = registry.chain(chain).w3
    if page.cursor is not None:
        payload = decode_cursor(page.cursor, "chain", "below")
        top = payload["below"]
        if payload["chain"] != chain or not isinstance(top, int) or top < 0:
            raise InvalidInputError("cursor", "this cursor continues another chain's blocks")
        top = min(top, int(w3.eth.block_number))  # a rollback may have shortened the chain since
    else:
        top = int(w3.eth.block_number)
    numbers = range(top, max(top - page.limit, -1), -1)
    blocks = [BlockPublic.of(chain, w3.eth.get_block(number)) for number in numbers]
    bottom = top - page.limit
    return BlocksPublic(
        items=blocks, next_cursor=encode_cursor({"chain": chain, "below": bottom}) if bottom >= 0 else None
    )


@router.get(
    "/{chain}/blocks/{number}",
    dependencies=[allow(*EVERY_ROLE)],
    summary="One block",
    description="A block by number, with its transactions' hashes.",
)
def get_block(
    chain: Chain,
    number: Annotated[int, Path(ge=0, le=2**63 - 1, description="The block number.", examples=[1])],
    registry: RegistryDep,
) -> BlockPublic:
    """One block."""
    try:
        block = registry.chain(chain).w3.eth.get_block(number)
    except BlockNotFound:
        raise not_found("block", f"the {chain} chain has no block {number} yet") from None
    return BlockPublic.of(chain, block)
