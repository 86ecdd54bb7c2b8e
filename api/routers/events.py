"""The activity stream as server-sent events: blocks, token events, refusals, interventions, rollbacks
and demo progress as they happen (`registry.activity`), for the dashboard and any live reader.

Each message is ``event: <kind>``, ``data: <one line of JSON>``, ``id: <n>`` and a blank line; ids
increase by one per published item (across kinds and chains), so a gap means items this reader did not
get. A comment ``: keep-alive`` comes every 15 seconds without traffic, and ``: dropped N ...`` when the
reader fell so far behind that its queue overflowed (the chain never waits for a reader). A reader that
reconnects with ``Last-Event-ID`` gets what it missed, as far as the server's replay buffer reaches.
Browsers read it with ``fetch()`` and a stream reader, so that the ``Authorization`` header can be sent:
never put a key in a URL.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Annotated, Final

from fastapi import APIRouter, Header, Query
from fastapi.responses import StreamingResponse

from api.deps import StateDep
from api.schemas.common import ChainName
from api.security import EVERY_ROLE, allow
from registry.activity import KINDS, Activity, ActivityHub
from registry.errors import InvalidInputError

TAG = {
    "name": "events",
    "description": "A live stream (server-sent events) of what happens on both chains: sealed blocks with "
    "their sealers, token events as the index stores them, refused senders with the reason in plain "
    "words, interventions and rollbacks, demo progress. Every role may read it.",
}

router = APIRouter(tags=["events"])

EVENT_STREAM: Final = "text/event-stream"

_EXAMPLE = (
    ": stream open\n\n"
    "event: block\n"
    'data: {"chain": "permissioned", "number": 42, "hash": "0x7a7a…", "timestamp": "2026-12-01T09:30:12Z", '
    '"tx_count": 1, "sealers": ["0x1f4c…"], "validators": ["0x1f4c…", "0x5aAe…"]}\n'
    "id: 17\n\n"
    ": keep-alive\n\n"
)


def message(activity: Activity) -> str:
    """One item as an SSE message."""
    data = json.dumps(activity.data, separators=(",", ":"), ensure_ascii=False, default=str)
    return f"event: {activity.kind}\ndata: {data}\nid: {activity.id}\n\n"


def _kinds(values: list[str] | None) -> set[str] | None:
    if not values:
        return None
    chosen = {part.strip() for value in values for part in value.split(",") if part.strip()}
    unknown = sorted(chosen - set(KINDS))
    if unknown:
        raise InvalidInputError(
            "kinds", f"unknown kind(s) {', '.join(unknown)}: choose among {', '.join(KINDS)}"
        )
    return chosen or None


def _last_id(value: str | None) -> int | None:
    if value is None:
        return None
    if not value.strip().isdigit():
        raise InvalidInputError(
            "header Last-Event-ID", "Last-Event-ID is the id (a whole number) of the last message received"
        )
    return int(value.strip())


async def _stream(
    hub: ActivityHub, kinds: set[str] | None, chain: str | None, after: int | None, keep_alive: float
) -> AsyncIterator[str]:
    loop = asyncio.get_running_loop()
    ready = asyncio.Event()

    def wake() -> None:
        loop.call_soon_threadsafe(ready.set)

    # Subscribed here, when the response starts, so that the finally below always closes it.
    subscription = hub.subscribe(kinds=kinds, chain=chain, after=after, wake=wake)
    try:
        # Sent at once: the reader knows the subscription is in place before anything happens.
        yield ": stream open\n\n"
        if subscription.other_run:
            yield (
                ": resumed from an id this server did not issue since it started (it restarted, or it is "
                f"another server): this run's events follow from id {hub.first_id}; what happened before is "
                "in the index (GET /assets/{asset_id}/events)\n\n"
            )
        while True:
            ready.clear()
            items, dropped = subscription.take()
            if dropped:
                yield (
                    f": dropped {dropped} event(s): this reader fell behind or resumed beyond the replay "
                    "buffer (the ids show the gap)\n\n"
                )
            for item in items:
                yield message(item)
            if subscription.closed:
                return
            if not items:
                try:
                    await asyncio.wait_for(ready.wait(), keep_alive)
                except TimeoutError:
                    yield ": keep-alive\n\n"
    finally:
        # The reader went away (the server cancels the stream) or the registry closed.
        subscription.close()


@router.get(
    "/events",
    dependencies=[allow(*EVERY_ROLE)],
    response_class=StreamingResponse,
    responses={
        200: {
            "description": "The stream: `event: <kind>`, `data: <json>`, `id: <n>` per message.",
            "content": {EVENT_STREAM: {"schema": {"type": "string"}, "example": _EXAMPLE}},
        }
    },
    summary="Stream what happens (server-sent events)",
    description="A `text/event-stream` of activity, optionally of one chain and some kinds. Kinds and "
    "data: `block` {chain, number, hash, timestamp, tx_count, sealers[], validators[]} (sealers and "
    "validators on the permissioned chain only); `token-event` {chain, asset_id, symbol, event, "
    "block_number, tx_hash, log_index, args}; `refusal` {chain, sender, tx_hash?, error, reason}; "
    "`intervention` {chain, id, kind, status, signers[], dropped[], replayed[], excluded[]}; `rollback` "
    "{chain, first_changed_block, new_head}; `demo` {run_id, name, chain?, step, status, detail}. A "
    "`: keep-alive` comment every 15 s; `Last-Event-ID` resumes after a reconnection. Example: "
    "`curl -N -H 'Authorization: Bearer rk_…' 'http://127.0.0.1:8000/events?kinds=block,refusal'`.",
)
async def stream_events(
    state: StateDep,
    chain: Annotated[ChainName | None, Query(description="Only this chain's activity.")] = None,
    kinds: Annotated[
        list[str] | None,
        Query(
            description="Only these kinds, comma-separated (or repeated): block, token-event, refusal, "
            "intervention, rollback, demo.",
            examples=["block,token-event"],
        ),
    ] = None,
    last_event_id: Annotated[
        str | None,
        Header(
            alias="Last-Event-ID",
            max_length=20,
            description="The id of the last message received: resume after it.",
        ),
    ] = None,
) -> StreamingResponse:
    """Stream what happens."""
    chosen = _kinds(kinds)
    after = _last_id(last_event_id)
    return StreamingResponse(
        _stream(state.registry.activity, chosen, chain, after, state.keep_alive_seconds),
        media_type=EVENT_STREAM,
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )
