"""Fixtures of the dashboard's end-to-end tests: the app served by uvicorn on a free port (as `registry
serve` does) over a registry of fresh in-memory chains with index followers, API keys of the roles the
tests use, and Debian's chromium driven by Playwright (never a browser build of Playwright's own).

Chromium: when /usr/bin/chromium is absent the session runs ``scripts/install_chromium.sh`` (as root);
still absent, the tests skip, or fail when ``REGISTRY_TEST_REQUIRE_BROWSER=1`` (as .ci/run sets).

Routes built on other branches: `Dashboard.require` skips a test naming the routes it needs while this
server lacks them (read from /openapi.json), so the tests run once those routes are merged.
"""

from __future__ import annotations

import itertools
import os
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from httpx2 import Client, Response
from playwright.sync_api import Browser, ConsoleMessage, Page, Playwright, sync_playwright

from api import create_app
from registry.access import keys as access_keys
from registry.chain.rpc.server import RpcServerThread
from registry.runtime import Registry
from tests.registry_fixtures import service_settings

CHROMIUM = Path("/usr/bin/chromium")
"""Debian's chromium."""

ROOT = Path(__file__).resolve().parents[2]

SCREENSHOTS = ROOT / "build" / "screenshots"
"""Where the tests write the page at 1280x720 for review (git-ignored)."""

VIEWPORT = {"width": 1280, "height": 720}
"""The projector the page is made for."""

TIMEOUT_MS = 30_000
"""A guard on every wait for the page (a wait ends as soon as its condition holds)."""

CONTRAST = (Path(__file__).parent / "contrast.js").read_text()
"""A page function listing the page's texts under 7:1 contrast or 14 px (WCAG's formula): projector-proof."""

_labels = itertools.count()


@dataclass
class Dashboard:
    """The served app: its URL, its registry, keys of the roles the tests use, an HTTP client."""

    url: str
    registry: Registry
    client: Client
    tokens: dict[str, str] = field(default_factory=dict)

    def key(self, role: str, *addresses: str) -> str:
        """A new API key of ``role`` bound to ``addresses`` (made straight in the database)."""
        with self.registry.db.write() as session:
            made = access_keys.create_key(
                session, role=role, label=f"dashboard {role} {next(_labels)}", now=0, addresses=addresses
            )
        return made.token

    def call(self, method: str, path: str, token: str, **kwargs: Any) -> Response:
        """A request with ``token``."""
        headers = {"Authorization": f"Bearer {token}", **kwargs.pop("headers", {})}
        return self.client.request(method, path, headers=headers, **kwargs)

    def paths(self) -> dict[str, Any]:
        """The operations this server has (its OpenAPI document's paths)."""
        paths: dict[str, Any] = self.client.get("/openapi.json").json()["paths"]
        return paths

    def missing(self, *routes: str) -> list[str]:
        """Of ``routes`` ("GET /demos"), those this server does not serve."""
        paths = self.paths()
        return [
            route
            for route in routes
            if route.split(" ", 1)[0].lower() not in paths.get(route.split(" ", 1)[1], {})
        ]

    def require(self, *routes: str) -> None:
        """Skip the test while this server lacks any of ``routes`` (built on another branch)."""
        if missing := self.missing(*routes):
            pytest.skip(f"needs {', '.join(missing)}, not served on this branch yet")


def _require_browser() -> bool:
    return os.environ.get("REGISTRY_TEST_REQUIRE_BROWSER", "") == "1"


@pytest.fixture(scope="session")
def chromium() -> str:
    """The chromium executable; installed when absent and we are root."""
    if not CHROMIUM.exists() and os.geteuid() == 0 and shutil.which("apt-get"):
        subprocess.run([str(ROOT / "scripts" / "install_chromium.sh")], check=False)
    if not CHROMIUM.exists():
        reason = (
            f"Debian's chromium is not at {CHROMIUM}: install it with scripts/install_chromium.sh (as root)"
        )
        if _require_browser():
            pytest.fail(f"{reason}; REGISTRY_TEST_REQUIRE_BROWSER=1 requires it")
        pytest.skip(f"{reason} (or set REGISTRY_TEST_REQUIRE_BROWSER=1 to fail)")
    return str(CHROMIUM)


@pytest.fixture(scope="session")
def playwright() -> Iterator[Playwright]:
    """Playwright's driver (its sync API)."""
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="session")
def browser(playwright: Playwright, chromium: str) -> Iterator[Browser]:
    """Headless Debian chromium (without its sandbox when we are root, which it refuses otherwise)."""
    args = ["--no-sandbox"] if os.geteuid() == 0 else []
    launched = playwright.chromium.launch(executable_path=chromium, headless=True, args=args)
    yield launched
    launched.close()


@pytest.fixture(scope="module")
def dashboard(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Dashboard]:
    """The app served on a free port over fresh in-memory chains (instant sealing, index followers)."""
    registry = Registry.open(
        service_settings(tmp_path_factory.mktemp("dashboard")), in_memory=True, sealing="instant"
    )
    try:
        server = RpcServerThread(create_app(registry=registry)).start()
        try:
            with Client(base_url=server.url, timeout=60) as client:
                served = Dashboard(url=server.url, registry=registry, client=client)
                served.tokens["admin"] = served.key("admin")
                served.tokens["auditor"] = served.key("auditor")
                issuer = registry.keys.create(f"dashboard issuer {next(_labels)}").address
                served.tokens["issuer"] = served.key("issuer", issuer)
                yield served
        finally:
            server.stop()
    finally:
        registry.close()


@dataclass
class Watched:
    """A page and what went wrong in it: console errors and uncaught exceptions."""

    page: Page
    errors: list[str]

    def open_with(self, url: str, token: str) -> None:
        """Open the dashboard and paste ``token`` into its key form, with the keyboard."""
        self.page.goto(f"{url}/")
        self.page.locator("#api-key").fill(token)
        self.page.locator("#api-key").press("Enter")

    def screenshot(self, name: str) -> Path:
        """The page at 1280x720 as build/screenshots/``name``.png."""
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / f"{name}.png"
        self.page.screenshot(path=str(path))
        return path


@pytest.fixture
def watched(browser: Browser) -> Iterator[Watched]:
    """A fresh browser context and page at 1280x720 that records console errors and page errors."""
    context = browser.new_context(viewport=VIEWPORT)  # type: ignore[arg-type]
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    errors: list[str] = []

    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error":
            errors.append(f"console: {message.text} at {message.location}")

    page.on("console", on_console)
    page.on("pageerror", lambda error: errors.append(f"page error: {error}"))
    yield Watched(page=page, errors=errors)
    context.close()
