"""Real-browser fixtures: Debian's Chromium driven by Playwright (no browser download)."""

import json
import os
import shutil
from pathlib import Path

import pytest

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
# Installed from package-lock.json by `make test` (npm ci); never committed, never downloaded
# by the tests themselves.
AXE_SCRIPT = ROOT / "node_modules" / "axe-core" / "axe.min.js"
WCAG_AA_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


@pytest.fixture(scope="session")
def browser():
    if not shutil.which(CHROMIUM):
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium (make test does).")
    # Playwright's sync API runs an event loop in this thread; the live server's ORM calls
    # from the test body are synchronous on purpose.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    from playwright.sync_api import expect, sync_playwright

    expect.set_options(timeout=15_000)  # CI machines are small and busy

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run"],
        )
        yield browser
        browser.close()


@pytest.fixture
def page(browser, live_server):
    # Reduced motion turns off Bootstrap's collapse animation, so clicks never hit a moving form.
    # The browser's clock is in the site's zone (UTC) wherever the tests run, so the banner
    # offering the browser's zone (tests/e2e/test_time_zone.py) stays away.
    context = browser.new_context(base_url=live_server.url, viewport={"width": 1440, "height": 900},
                                  reduced_motion="reduce", timezone_id="UTC")
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()


@pytest.fixture
def screenshot(page):
    """Save a full-page screenshot under test-artifacts/ (kept by CI, looked at by people)."""
    ARTIFACTS.mkdir(exist_ok=True)

    def take(name: str) -> Path:
        path = ARTIFACTS / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take


class AxeViolations(list):
    """axe-core's violations of one page; `str()` of it is a report people can read."""

    def __init__(self, name, url, violations):
        super().__init__(violations)
        self.name, self.url = name, url

    def __repr__(self):
        counts = ", ".join(f"{v['id']} ×{len(v['nodes'])}" for v in self)
        return f"<axe on {self.name}: {counts or 'no violations'}>"

    def __str__(self):
        lines = [f"{len(self)} WCAG 2.1 AA violation(s) on {self.name} ({self.url}):"]
        for violation in self:
            lines.append(f"- {violation['id']} [{violation['impact']}]: {violation['help']}")
            for node in violation["nodes"][:8]:
                lines.append(f"    {' > '.join(map(str, node['target']))}")
                lines.append(f"      {node['html'][:200]}")
                summary = node.get("failureSummary") or ""
                lines.extend(f"      {line.strip()}" for line in summary.splitlines()[1:3])
            if len(violation["nodes"]) > 8:
                lines.append(f"    … and {len(violation['nodes']) - 8} more")
        return "\n".join(lines)


@pytest.fixture(scope="session")
def axe_script():
    if not AXE_SCRIPT.exists():
        pytest.fail(f"{AXE_SCRIPT.relative_to(ROOT)} is missing: `make test` installs it "
                    "(npm ci, from package-lock.json).")
    return AXE_SCRIPT.read_text()


@pytest.fixture
def axe(axe_script):
    """`axe(page, name)` → the page's WCAG 2.1 A/AA violations (an AxeViolations list).

    The script goes in through DevTools (`page.evaluate`), which the page's
    Content-Security-Policy does not apply to: a <script> tag with it inline would be refused,
    and turning the policy off for the test would hide what it breaks. The violations are also
    written to test-artifacts/axe-<name>.json.
    """

    def run(page, name: str) -> AxeViolations:
        if not page.evaluate("() => typeof window.axe === 'object'"):
            page.evaluate(axe_script)
        violations = page.evaluate(
            """async (tags) => {
                // Only the violations are wanted: leaving out the passes halves the run.
                const result = await axe.run(document, {runOnly: {type: "tag", values: tags},
                                                        resultTypes: ["violations"]});
                return result.violations.map(({id, impact, help, helpUrl, tags, nodes}) => ({
                    id, impact, help, helpUrl, tags,
                    nodes: nodes.map(({target, html, failureSummary}) =>
                        ({target, html, failureSummary})),
                }));
            }""",
            WCAG_AA_TAGS,
        )
        ARTIFACTS.mkdir(exist_ok=True)
        (ARTIFACTS / f"axe-{name}.json").write_text(
            json.dumps({"url": page.url, "violations": violations}, indent=2))
        return AxeViolations(name, page.url, violations)

    return run
