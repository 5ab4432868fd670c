"""The browser tests' fixtures: the storefront built once (web/dist), ONE headless Debian Chromium per session
driven by Playwright (never a downloaded browser), a fresh browser context per test (its own storage: a new
visitor), screenshots under .local/artifacts/web/ and an axe-core scan of a page."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from infra.launcher import ROOT
from tests.conftest import SESSION_EDGE_LIMITS, Stack, _local_stack, local_cloud
from tests.support.browser import AXE, CHROMIUM_ARGS

WEB = ROOT / "web"
DIST = WEB / "dist"
CHROMIUM = Path(os.environ.get("CHROMIUM", "/usr/bin/chromium"))


def _sources_newer_than_build() -> bool:
    built = DIST / "index.html"
    if not built.exists():
        return True
    stamp = built.stat().st_mtime
    sources = [*WEB.glob("src/**/*"), *WEB.glob("*.html"), WEB / "package-lock.json", WEB / "vite.config.ts"]
    return any(path.stat().st_mtime > stamp for path in sources if path.is_file())


@pytest.fixture(scope="session")
def web_build() -> Path:
    """web/dist, built here when `make web` has not (as `make test` does first)."""
    if _sources_newer_than_build():
        if shutil.which("npm") is None:
            pytest.fail("npm is needed to build the storefront (web/)")
        if not (WEB / "node_modules" / ".bin" / "vite").exists():
            subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=WEB, check=True)
        subprocess.run(["npm", "run", "build"], cwd=WEB, check=True, capture_output=True)
    return DIST


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    """One browser per test module, closed after it: Playwright's sync API keeps an asyncio loop running in
    this thread while it is open, and the unit tests that come later call asyncio.run()."""
    if not CHROMIUM.exists():
        pytest.skip(f"no Chromium at {CHROMIUM} (apt-get install chromium; .ci/run installs it)")
    from playwright.sync_api import expect, sync_playwright

    # A function's first call in a fresh cloud starts its worker (seconds on a busy machine): waits, not timings.
    expect.set_options(timeout=20_000)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture(scope="session")
def web_stack(tmp_path_factory: pytest.TempPathFactory, stack: Stack, web_build: Path) -> Iterator[Stack]:
    """A cloud of the real template whose gateway serves web/dist, as `make run` does, with a warehouse that
    ships a second after payment and a payment window long enough for a person to confirm a payment (the
    quick cloud's 3 s window expires orders while a browser's first checkout starts its functions)."""
    if not stack.local:
        pytest.skip("the browser tests start a local cloud with other template parameters")
    cloud = local_cloud(tmp_path_factory, "web",
                        overrides=["PaymentWindowSeconds=300", "FulfilmentDelaySeconds=1", *SESSION_EDGE_LIMITS])
    try:
        yield _local_stack(cloud)
    finally:
        cloud.stop()


@pytest.fixture(scope="session")
def web_api(web_stack: Stack) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=web_stack.api_url, timeout=30) as client:
        yield client


@pytest.fixture(scope="session")
def shop_url(web_stack: Stack) -> str:
    return web_stack.api_url.rstrip("/")


@pytest.fixture
def page(chromium: Any, shop_url: str) -> Iterator[Any]:
    context = chromium.new_context(base_url=shop_url, viewport={"width": 1280, "height": 900})
    context.set_default_timeout(15_000)
    context.add_init_script(path=str(AXE))  # for the accessibility scans (tests.support.browser)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("console", lambda message: errors.append(message.text) if "Security Policy" in message.text else None)
    yield page
    context.close()
    assert not errors, f"the page reported errors: {errors}"
