"""HTTP API of the tokenized-asset registry (FastAPI); it sits on top of the `registry` package.

`create_app` builds the application (see `api.app`).
"""

from api.app import create_app

__all__ = ["create_app"]
