"""Who may use the registry over HTTP, and what the API must remember between requests.

Tables of the registry's own database (beside the index, in the same Alembic history):

- `models.ApiKey` and `models.ApiKeyBinding`: API keys, stored hashed, with a role and the on-chain
  identities (addresses) and assets the key is bound to (`registry.access.keys`);
- `models.IdempotencyRecord`: each Idempotency-Key a caller used, with the first response and the
  transactions signed while it ran (`registry.access.idempotency`);
- `models.PreparedOperation`: unsigned transactions handed to a client to sign, so that the signed one
  can be checked against them and its result built as the custodial path builds it
  (`registry.access.prepared`).

The HTTP API (`api/`) reads and writes these only through the functions of this package.
"""
