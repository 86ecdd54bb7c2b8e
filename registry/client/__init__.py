"""The command line as a client of a running ``registry serve``: one command group per resource, each
a thin layer over the HTTP API (httpx2), Rich tables for people and ``--json`` for scripts.

- `http`: `ApiClient` (the key sent as a bearer token, an Idempotency-Key on every sending POST, the
  server's problems raised as `ApiProblemError`, an absent server as `ServerUnreachableError`);
- `output`: printing results and errors;
- `csvfiles`: the CSV files of batch onboarding and minting, every row checked before anything is sent;
- `commands`: the Typer groups, added to ``registry`` by `register`.

Nothing here imports web3 or py-evm, and httpx2 is imported only when a command talks to the server, so
that ``registry --help`` stays quick.
"""

from __future__ import annotations

from registry.client.http import DEFAULT_URL, Remote

__all__ = ["DEFAULT_URL", "Remote"]
