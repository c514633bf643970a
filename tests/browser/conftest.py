"""Browser journeys: Playwright's sync API drives Debian's Chromium against pytest-django's live server.

Every journey starts with real users in the real groups (created by migration 0002) signing in through the real
login pages. The groups live in the database from the migrations, and a transactional test flushes the database
when it ends, so these tests ask for a serialized rollback: each one starts from the migrated state again."""

from __future__ import annotations

import re
from collections.abc import Generator, Iterator
from pathlib import Path
from typing import Any

import pytest
from django.db import connections
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import Page, expect, sync_playwright

from tests.browser.helpers import SCREENSHOTS

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--no-first-run",
]
TIMEOUT_MS = 10_000                 # a page of this app answers in well under a second; fail fast when it does not


@pytest.fixture
def page(live_server: Any, transactional_db: None, django_db_serialized_rollback: None) -> Iterator[Page]:
    """A fresh Chromium (no cookies) on the live server, downloads allowed.

    Playwright starts only after the database is set up, and stops before it is flushed: its sync API keeps an
    asyncio loop running in the test thread, and while a loop runs Django keeps database connections per task
    rather than per thread (asgiref's Local), so the serialized rollback must run before and the flush after."""
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: `make test` installs it (apt-get install -y chromium); "
                    "`playwright install` is not used here", pytrace=False)
    with pytest.MonkeyPatch.context() as patch:
        # Django takes any ORM call made while a loop runs for an async one; these are plain synchronous set-up
        # and checks in the test body.
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_FLAGS, headless=True)
            context = browser.new_context(base_url=live_server.url, accept_downloads=True,
                                          viewport={"width": 1280, "height": 900})
            context.set_default_timeout(TIMEOUT_MS)
            expect.set_options(timeout=TIMEOUT_MS)
            try:
                yield context.new_page()
            finally:
                context.close()
                browser.close()
                # The connections the test body opened while the loop ran (see above): close them, or the test
                # database could not be dropped at the end of the session.
                connections.close_all()


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Generator[None, Any, Any]:
    """When a browser test fails, keep a picture of the page it was on under var/screenshots/."""
    report = yield
    if report.failed and report.when in ("setup", "call"):
        opened = getattr(item, "funcargs", {}).get("page")
        if isinstance(opened, Page) and not opened.is_closed():
            path = SCREENSHOTS / f"{_safe(item.name)}-failed.png"
            try:
                opened.screenshot(path=path, full_page=True)
            except PlaywrightError as exc:
                report.sections.append(("screenshot", f"could not take one: {exc.message}"))
            else:
                report.sections.append(("screenshot", str(path)))
    return report


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", name)
