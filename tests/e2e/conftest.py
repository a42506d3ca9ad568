"""Fixtures of the browser tests: a live server with a small city, and headless
Chromium driven by Playwright.

The app runs in a thread (werkzeug ``make_server`` on 127.0.0.1, a free port)
on the test database of :mod:`creditcase.testing`, filled with a small city
(:mod:`tests.e2e.seed`). Checks are performed in-process between steps with
:func:`creditcase.testing.run_pending_checks`.

The browser is the system's Chromium (``shutil.which("chromium")``), never a
downloaded one. Without it the tests are skipped, or fail when
``CREDITCASE_REQUIRE_BROWSER=1``. A failing test leaves a full-page screenshot
in ``artifacts/screenshots/``; :func:`shoot` saves the pages of a normal run in
``artifacts/screenshots/pages/`` for review.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import shutil
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from werkzeug.serving import make_server

from creditcase.core.accounts import SYSTEM
from creditcase.core.cases import WorkflowService
from creditcase.core.lists import add_entry
from creditcase.core.runtime import Runtime
from creditcase.testing import run_pending_checks
from creditcase.web import create_app
from tests.e2e import seed as city

CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run", "--disable-sync"]
BEIJING = dt.timezone(dt.timedelta(hours=8))


def artifacts(config: pytest.Config) -> Path:
    return Path(config.rootpath) / "artifacts" / "screenshots"


# -- the browser -------------------------------------------------------------------------------

@pytest.fixture(scope="session")
def chromium_path() -> str:
    path = shutil.which("chromium")
    if path is None:
        message = "Chromium is not installed (apt-get install chromium); browser tests need it"
        if os.environ.get("CREDITCASE_REQUIRE_BROWSER") == "1":
            pytest.fail(message)
        pytest.skip(message)
    return path


@pytest.fixture(scope="session")
def browser(chromium_path: str) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=chromium_path, headless=True,
                                              args=CHROMIUM_ARGS)
        yield instance
        instance.close()


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> Any:
    report = yield
    setattr(item, f"report_{report.when}", report)
    return report


@pytest.fixture
def pages(browser: Any, request: pytest.FixtureRequest) -> Iterator[Any]:
    """Opens pages (each in its own browser context: its own cookies); on failure the
    last page of every context is saved as a screenshot."""
    opened: list[Any] = []

    def open_page(*, width: int = 1280, height: int = 900, locale: str = "zh-CN") -> Any:
        context = browser.new_context(viewport={"width": width, "height": height}, locale=locale,
                                      accept_downloads=True)
        context.set_default_timeout(10_000)
        page = context.new_page()
        opened.append(page)
        return page

    yield open_page
    report = getattr(request.node, "report_call", None)
    failed = report is not None and report.failed
    for index, page in enumerate(opened):
        if failed and not page.is_closed():
            folder = artifacts(request.config)
            folder.mkdir(parents=True, exist_ok=True)
            name = re.sub(r"[^\w.-]+", "_", request.node.name)
            page.screenshot(path=str(folder / f"{name}-{index}.png"), full_page=True)
        page.context.close()


UNLABELLED_JS = """() => [...document.querySelectorAll(
    'input:not([type=hidden]), select, textarea, button')]
  .filter(e => !(e.labels && e.labels.length) && !e.getAttribute('aria-label')
               && !(e.tagName === 'BUTTON' && e.textContent.trim()))
  .map(e => e.outerHTML.slice(0, 120))"""


def unlabelled(page: Any) -> list[str]:
    """Form controls of the page without a label (or a button without text)."""
    return page.evaluate(UNLABELLED_JS)


def shoot(page: Any, name: str, config: pytest.Config) -> Path:
    """Save a full-page screenshot of a page for review."""
    folder = artifacts(config) / "pages"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


# -- the live server ---------------------------------------------------------------------------

@dataclass
class Live:
    base_url: str
    runtime: Runtime
    seed: city.Seed
    config: pytest.Config
    _counter: list[int] = field(default_factory=lambda: [0])

    @property
    def workflow(self) -> WorkflowService:
        return self.runtime.workflow

    def url(self, path: str) -> str:
        return self.base_url + path

    def run_checks(self) -> int:
        return run_pending_checks(self.workflow)

    def sign_in(self, page: Any, username: str) -> None:
        page.goto(self.url("/login"))
        page.get_by_label(re.compile("用户名|Username")).fill(username)
        page.get_by_label(re.compile("密码|Password")).fill(city.password(username))
        page.get_by_role("button", name=re.compile("^(登录|Sign in)$")).click()
        page.wait_for_load_state()
        assert "/login" not in page.url, page.content()[:2000]

    def shoot(self, page: Any, name: str) -> Path:
        return shoot(page, name, self.config)

    def listed_supplier(self, name: str) -> str:
        """A new legal person on the 失信被执行人 black list; returns its USCC."""
        self._counter[0] += 1
        code = city.uscc(f"91410481MA4{self._counter[0]:02d}E7Q")
        add_entry(SYSTEM, list_type="SXBZXR", subject_code=code, subject_name=name,
                  basis_doc_no=f"（2026）豫0481执{100 + self._counter[0]}号",
                  listed_on=dt.date.today() - dt.timedelta(days=40),
                  source_department=city.XYB)
        return code


def procurement_application(project: str = "WGCG-2026-E2E") -> dict[str, str]:
    """A procurement application whose bids closed yesterday: a check run now is the
    evaluation-time check the procurement rules require."""
    return city.procurement(project, "舞钢市第一中学教学设备采购")


@pytest.fixture
def live(db, settings, host, request: pytest.FixtureRequest) -> Iterator[Live]:
    runtime = Runtime(settings, host, WorkflowService(host), settings.mongodb_uri)
    seeded = city.seed_city(runtime.workflow, lambda: run_pending_checks(runtime.workflow))
    app = create_app({"TESTING": True, "SECRET_KEY": "e2e-secret"}, runtime=runtime)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="e2e-server", daemon=True)
    thread.start()
    try:
        yield Live(f"http://127.0.0.1:{server.server_port}", runtime, seeded, request.config)
    finally:
        server.shutdown()
        thread.join(timeout=5)
