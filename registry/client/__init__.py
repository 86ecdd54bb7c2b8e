"""The command line as a client of a running ``registry serve``: one command group per resource, each
a thin layer over the HTTP API (httpx2), Rich tables for people and ``--json`` for scripts.

- `http`: `ApiClient` (the key sent as a bearer token, an Idempotency-Key on every sending POST, the
  server's problems raised as `ApiProblemError`, an absent server as `ServerUnreachableError`);
- `output`: printing results and errors;
- `csvfiles`: the CSV files of batch onboarding and minting, every row checked before anything is sent;
- `common`: the options and helpers the commands share;
- the commands, one module per part of the API: `assets`, `investors`, `tokens` (mint, transfer, cap
  table, freezes, the batch sender), `payments` (coupons, dividends), `chains` (blocks, validators,
  interventions), `live` (the event stream, demos on the server);
- `commands`: `register` adds them all to ``registry``.

Nothing here imports web3 or py-evm, and httpx2 is imported only when a command talks to the server, so
that ``registry --help`` stays quick.
"""

from __future__ import annotations

from registry.client.http import DEFAULT_URL, Remote

__all__ = ["DEFAULT_URL", "Remote"]
