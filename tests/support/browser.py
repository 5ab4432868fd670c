"""Helpers of the browser tests (tests/e2e/web): Chromium's flags, screenshots kept as artefacts, and the
axe-core accessibility scan."""

from __future__ import annotations

from typing import Any

from infra.launcher import ROOT

ARTIFACTS = ROOT / ".local" / "artifacts" / "web"
AXE = ROOT / "web" / "node_modules" / "axe-core" / "axe.min.js"
# Debian's Chromium, headless, as root in CI: no sandbox, no GPU, and nothing fetched in the background.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]  # fmt: skip


def snapshot(page: Any, name: str) -> None:
    """A full-page screenshot kept as a test artefact (.local/artifacts/web/NAME.png)."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def serious_accessibility_violations(page: Any) -> list[str]:
    """axe-core's WCAG 2 A/AA rules over the page as it is now; the serious and critical findings."""
    # The pages' content security policy refuses injected script tags (as it should); the context's init
    # script (the page fixture) put axe in every page instead.
    assert page.evaluate("() => typeof window.axe !== 'undefined'"), "axe-core was not loaded into the page"
    result = page.evaluate(
        "async () => (await axe.run(document, {runOnly: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa',"
        " 'best-practice']}))"
        ".violations.filter(v => v.impact === 'serious' || v.impact === 'critical')"
        ".map(v => `${v.id}: ${v.help} (${v.nodes.map(n => n.target.join(' ')).slice(0, 3).join(', ')})`)"
    )
    return list(result)


def checked(page: Any, name: str) -> None:
    """Screenshot, then the accessibility scan, of the page as the test left it."""
    snapshot(page, name)
    violations = serious_accessibility_violations(page)
    assert not violations, f"{name}: {violations}"
