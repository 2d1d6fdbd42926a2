"""Fixtures of the dashboard tests: stores written by real runs, a served app, a browser."""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Iterator
from typing import Any

import pytest

XSS = "<script>alert(1)</script>"
XSS_IMG = '<img src=x onerror="window.__xss=1">'
BROWSER_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@pytest.fixture(scope="session")
def real_store(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A store with two runs of the default problem (real roofline breakdowns)."""
    import codesign

    path = str(tmp_path_factory.mktemp("dash") / "store")
    codesign.run("digits-accel", agent="tpe", budget=24, seed=0, store=path)
    codesign.run("digits-accel", agent="random", budget=24, seed=1, store=path)
    return path


@pytest.fixture(scope="session")
def xss_store(tmp_path_factory: pytest.TempPathFactory, synth_plugin: str) -> str:
    """A store whose run names are HTML/script payloads."""
    import codesign

    path = str(tmp_path_factory.mktemp("dash") / "xss")
    codesign.run("synth-test", agent="random", budget=10, seed=0, store=path, name=XSS)
    codesign.run("synth-test", agent="random", budget=10, seed=1, store=path, name=XSS_IMG)
    return path


def serve(location: str, refresh_s: float = 3.0) -> tuple[str, Any, threading.Thread]:
    from codesign.dashboard.app import create_app, make_server

    server = make_server(create_app(location, refresh_s=refresh_s), "127.0.0.1", 0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    return f"http://127.0.0.1:{server.socket.getsockname()[1]}/", server, thread


@pytest.fixture
def served() -> Iterator[Any]:
    """``served(location) -> url``: the dashboard of a store on a free loopback port."""
    servers = []

    def start(location: str, refresh_s: float = 3.0) -> str:
        url, server, thread = serve(location, refresh_s)
        servers.append((server, thread))
        return url

    yield start
    for server, thread in servers:
        server.shutdown()
        server.server_close()
        thread.join(5)


@pytest.fixture(scope="session")
def chromium() -> str:
    """Debian's chromium; skipped where absent, except in CI (``CI`` set), where it must be there."""
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    missing = None if path else "chromium is not on PATH (install it with scripts/install-system-deps.sh)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        missing = missing or "playwright is not installed (pip install playwright)"
    if missing:
        if os.environ.get("CI"):
            pytest.fail(f"browser tests must run in CI, but {missing}")
        pytest.skip(missing)
    return str(path)


@pytest.fixture(scope="session")
def browser(chromium: str) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=chromium, args=BROWSER_ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    ctx = browser.new_context(viewport={"width": 1500, "height": 1000}, accept_downloads=True)
    pg = ctx.new_page()
    pg.set_default_timeout(15000)
    yield pg
    ctx.close()


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "browser: drives headless chromium (runs in CI; skipped locally without it)")
