"""`ApiClient`: the HTTP API of a running ``registry serve``, as the command line calls it.

Errors, translated once here::

    ClientError
    ├── InputError               bad input found before anything was sent (a URL, a CSV row, an option)
    ├── ServerUnreachableError   no server answers at the URL (with the command that starts one)
    └── ApiProblemError          the server answered a problem (RFC 9457): title, detail, broken rules
"""

from __future__ import annotations

import hashlib
import re
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final
from urllib.parse import urlsplit

if TYPE_CHECKING:
    import httpx2

DEFAULT_URL: Final = "http://127.0.0.1:8000"
TIMEOUT: Final = 300.0
"""Seconds to wait for an answer: a batch of a few hundred items may take a while to land."""
PAGE: Final = 200
"""Items asked per page when a command reads a whole list."""


@dataclass(frozen=True)
class Remote:
    """Where the server is and the API key to send (``repr`` never shows the key)."""

    url: str = DEFAULT_URL
    key: str | None = field(default=None, repr=False)


class ClientError(Exception):
    """The command could not do what it was asked."""


class InputError(ClientError):
    """Bad input found before anything was sent (a URL, a malformed CSV row, a contradictory option)."""


def check_url(url: str) -> str:
    """``url`` without its trailing slash, once it is an http(s) URL with a host.

    Raises:
        InputError: it is not.
    """
    example = "for example --url http://127.0.0.1:8000"
    try:
        parts = urlsplit(url)
        _ = parts.port
    except ValueError as exc:
        raise InputError(f"--url {url!r} is not a URL ({exc}): {example}") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InputError(f"--url {url!r} is not an http:// or https:// URL with a host: {example}")
    return url.rstrip("/")


class ServerUnreachableError(ClientError):
    """No server answered at the URL."""

    def __init__(self, url: str, reason: str) -> None:
        super().__init__(
            f"no registry server answers at {url} ({reason}): start one with `registry serve` "
            "(it prints the admin API key on its first start), or point --url / REGISTRY_URL at a running one"
        )


class ApiProblemError(ClientError):
    """The server answered an RFC 9457 problem (or an error that is not one: its text is the detail)."""

    def __init__(self, status: int, problem: Mapping[str, Any]) -> None:
        self.status = status
        self.problem = dict(problem)
        super().__init__(f"{self.title}: {self.detail}")

    @property
    def title(self) -> str:
        """The problem's title."""
        return str(self.problem.get("title") or f"HTTP {self.status}")

    @property
    def detail(self) -> str:
        """What went wrong and what to do."""
        return str(self.problem.get("detail") or "")

    @property
    def lines(self) -> list[str]:
        """Every line worth showing: the title and detail, the field, each broken rule, the roles needed."""
        lines = [
            f"{self.title} ({self.status}): {self.detail}" if self.detail else f"{self.title} ({self.status})"
        ]
        if self.problem.get("field") and str(self.problem["field"]) not in self.detail:
            lines.append(f"  field: {self.problem['field']}")
        for violation in self.problem.get("violations") or []:
            if isinstance(violation, Mapping):
                rule = violation.get("name") or violation.get("rule") or violation.get("code")
                text = violation.get("sentence") or violation.get("message") or ""
                remedy = f" {violation['remedy']}" if violation.get("remedy") else ""
                lines.append(f"  broken rule {rule}: {text}{remedy}")
        for error in self.problem.get("errors") or []:
            if isinstance(error, Mapping) and error.get("field"):
                lines.append(f"  {error.get('field')}: {error.get('message')}")
        if roles := self.problem.get("roles_needed"):
            lines.append(f"  roles that may: {', '.join(map(str, roles))}")
        if self.status == 401:
            lines.append(
                "  send a key with --key or REGISTRY_API_KEY (`registry serve` prints the admin key once)"
            )
        return lines


class ApiClient:
    """Requests to the API at ``remote.url`` with ``remote.key``; a context manager closing its connections.

    ``transport`` (an httpx2 transport) is for tests that serve the app in process.
    """

    def __init__(self, remote: Remote, *, transport: httpx2.BaseTransport | None = None) -> None:
        import httpx2

        self.url = check_url(remote.url)
        headers = {"User-Agent": "registry-cli", "Accept": "application/json"}
        if remote.key:
            headers["Authorization"] = f"Bearer {remote.key}"
        self._httpx = httpx2
        self._http = httpx2.Client(
            base_url=self.url,
            headers=headers,
            timeout=httpx2.Timeout(TIMEOUT, connect=10.0),
            transport=transport,
        )

    def __enter__(self) -> ApiClient:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the connections."""
        self._http.close()

    def get(self, path: str, params: Mapping[str, Any] | None = None) -> Any:
        """GET ``path``: its JSON."""
        return self._request("GET", path, params=params)

    def post(
        self, path: str, body: Any = None, *, sends: bool = True, idempotency_key: str | None = None
    ) -> Any:
        """POST ``body`` to ``path``: its JSON. A sending POST carries an Idempotency-Key
        (``idempotency_key``, or a fresh one), and is retried once with the same key when the connection
        broke before the answer came (the server then answers the first attempt's outcome: nothing is
        sent twice)."""
        headers = {"Idempotency-Key": idempotency_key or f"cli-{uuid.uuid4()}"} if sends else {}
        return self._request("POST", path, json=body, headers=headers, retry=sends)

    def put(self, path: str, body: Any) -> Any:
        """PUT ``body`` to ``path``: its JSON."""
        return self._request("PUT", path, json=body)

    def patch(self, path: str, body: Any) -> Any:
        """PATCH ``path`` with ``body``: its JSON."""
        return self._request("PATCH", path, json=body)

    def delete(self, path: str) -> Any:
        """DELETE ``path``: its JSON (None when the answer has no body)."""
        return self._request("DELETE", path)

    def pages(self, path: str, params: Mapping[str, Any] | None = None) -> Iterator[dict[str, Any]]:
        """Every page of the paginated list at ``path``, following ``next_cursor``."""
        query = {key: value for key, value in (params or {}).items() if value is not None}
        query.setdefault("limit", PAGE)
        while True:
            page = self.get(path, query)
            yield page
            if not page.get("next_cursor"):
                return
            query["cursor"] = page["next_cursor"]

    def items(self, path: str, params: Mapping[str, Any] | None = None) -> Iterator[dict[str, Any]]:
        """Every item of the paginated list at ``path``, page after page."""
        for page in self.pages(path, params):
            yield from page["items"]

    def events(self, params: Mapping[str, Any] | None = None) -> Iterator[tuple[str, str, Any]]:
        """The server's event stream (GET /events): ``(kind, id, data)`` of each event, as they come.
        Comments (the keep-alives) are skipped; the iterator ends when the server closes the stream."""
        query = {key: value for key, value in (params or {}).items() if value is not None}
        try:
            with self._http.sse(
                "/events", params=query, timeout=self._httpx.Timeout(None, connect=10.0)
            ) as source:
                if source.response.status_code >= 400:
                    source.response.read()
                    raise self._problem(source.response)
                for event in source:
                    yield event.event, event.id, event.json() if event.data else None
        except self._httpx.TransportError as exc:
            raise self._unreachable(exc) from exc

    def _request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        headers: Mapping[str, str] | None = None,
        retry: bool = False,
    ) -> Any:
        query = {key: value for key, value in (params or {}).items() if value is not None}
        attempts = 2 if retry or method in ("GET", "PUT", "DELETE") else 1
        for attempt in range(attempts):
            try:
                response = self._http.request(method, path, params=query, json=json, headers=headers)
                break
            except self._httpx.ConnectError as exc:
                raise self._unreachable(exc) from exc
            except self._httpx.TransportError as exc:
                if attempt + 1 == attempts:
                    raise self._unreachable(exc) from exc
        if response.status_code >= 400:
            raise self._problem(response)
        if not response.content:
            return None
        return response.json()

    def _unreachable(self, exc: Exception) -> ServerUnreachableError:
        reason = type(exc).__name__ if not str(exc) else str(exc)
        return ServerUnreachableError(self.url, reason)

    @staticmethod
    def _problem(response: httpx2.Response) -> ApiProblemError:
        try:
            body = response.json()
        except ValueError:
            body = None
        if not isinstance(body, Mapping):
            text = response.text.strip()[:300] or response.reason_phrase
            body = {"title": f"HTTP {response.status_code}", "detail": text}
        return ApiProblemError(response.status_code, body)


def batch_id_of(token: str | None, idempotency_key: str) -> str | None:
    """The journal id the server files a batch request under, from the caller's key id and the request's
    Idempotency-Key (as `registry.access.idempotency.batch_id_for` makes it; a test keeps the two equal),
    so that GET /batches/{batch_id} shows its progress while the request runs. None for a token that is
    no API key."""
    match = re.match(r"^rk_([0-9a-f]{16})_", token or "")
    if match is None:
        return None
    key_id = match.group(1)
    digest = hashlib.sha256(f"{key_id}\0{idempotency_key}".encode()).hexdigest()
    return f"api-{key_id}-{digest[:32]}"
