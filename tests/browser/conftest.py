"""Playwright driving Debian's chromium (never a downloaded browser) against pytest-django's live server.

Without ``/usr/bin/chromium`` the browser tests skip and say why; with ``EXPORTS_TESTS_REQUIRE_BROWSER=1`` (CI) they
fail instead. ``EXPORTS_SCREENSHOTS_DIR`` makes them save the docs' screenshots there
(``EXPORTS_SCREENSHOTS_DIR=docs``). They run on the demo's own data: ``demo_setup`` seeds the orders with
``seed_orders`` and creates the user demo/demo, as ``make demo`` does.
"""

from __future__ import annotations

import io
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command

CHROMIUM = Path("/usr/bin/chromium")
LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """One chromium per module, launched from Debian's package."""
    if not os.access(CHROMIUM, os.X_OK):
        reason = f"no chromium at {CHROMIUM}: `apt-get install chromium` (the tests never download a browser)"
        if os.environ.get("EXPORTS_TESTS_REQUIRE_BROWSER") == "1":
            pytest.fail(f"EXPORTS_TESTS_REQUIRE_BROWSER=1 but {reason}")
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    # Playwright's sync API keeps an event loop in this thread, and Django then refuses ORM calls here ("async
    # context"); the test's own queries are ordinary synchronous ones, so allow them while the browser runs.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=LAUNCH_ARGS)
            try:
                yield launched
            finally:
                launched.close()
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    # The demo answers in the browser's language (LocaleMiddleware): the tests read English pages on any machine.
    context = browser.new_context(accept_downloads=True, viewport={"width": 1280, "height": 800}, locale="en-US")
    context.set_default_timeout(15_000)
    try:
        yield context.new_page()
    finally:
        context.close()


@pytest.fixture
def screenshot() -> Any:
    """Save a screenshot for the docs when ``EXPORTS_SCREENSHOTS_DIR`` is set; do nothing otherwise."""
    directory = os.environ.get("EXPORTS_SCREENSHOTS_DIR")

    def save(page: Any, name: str) -> None:
        if directory:
            Path(directory).mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(Path(directory) / name))

    return save


#: The demo's login (orders/management/commands/demo_setup.py).
DEMO_USER = ("demo", "demo")


@pytest.fixture
def demo(transactional_db: None) -> None:
    """The demo's data as ``make demo`` leaves it: 2,000 seeded orders and the staff user demo/demo."""
    call_command("demo_setup", stdout=io.StringIO())


@pytest.fixture
def log_in(live_server: Any, page: Any) -> Callable[..., Any]:
    """Log in through the admin's login form and wait for the page it goes to."""

    def log_in(username: str, password: str, *, then: str) -> Any:
        page.goto(f"{live_server.url}/admin/login/?next={then}")
        page.fill("#id_username", username)
        page.fill("#id_password", password)
        page.click("input[type=submit]")
        page.wait_for_url(f"{live_server.url}{then}")
        return page

    return log_in
