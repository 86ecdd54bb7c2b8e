"""HTTP API of the tokenized-asset registry (FastAPI); it sits on top of the `registry` package."""
