"""Real headless Chromium (Debian's /usr/bin/chromium) driven by Playwright, with axe-core on every page."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

CHROMIUM = os.environ.get("ALONGSIDE_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# A phone-sized screen: members mostly use Alongside on their phones.
PHONE = {"width": 390, "height": 844}


def pytest_collection_modifyitems(items):
    here = Path(__file__).parent
    for item in items:
        if here in Path(item.fspath).parents:
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.fail(f"browser tests need Chromium at {CHROMIUM}; `make test` installs Debian's chromium package")
    # The live server runs in a thread beside Playwright's event loop; Django's async guard would refuse it.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_FLAGS)
        yield chromium
        chromium.close()


@pytest.fixture
def open_page(browser):
    """open_page() -> a new page in its own browser context (its own cookies): one per person in a journey."""
    contexts = []

    def new_page():
        context = browser.new_context(viewport=PHONE, locale="en-US")
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(10_000)
        problems: list[str] = []
        # Content-Security-Policy refusals and script errors show up here; a clean page has none.
        page.on(
            "console",
            lambda message: problems.append(f"{page.url}: {message.text}") if message.type == "error" else None,
        )
        page.on("pageerror", lambda error: problems.append(f"{page.url}: {error}"))
        page.console_problems = problems
        return page

    yield new_page
    problems = [problem for context in contexts for page in context.pages for problem in page.console_problems]
    for context in contexts:
        context.close()
    assert not problems, f"browser console errors: {problems}"


@pytest.fixture
def page(open_page):
    return open_page()
