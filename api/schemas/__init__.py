"""Pydantic schemas of the HTTP API, one module per resource, in families: ``XCreate`` (what a client
sends), ``XPublic`` (what it gets back), ``XsPublic`` (a page of them); shared types in `common`."""
