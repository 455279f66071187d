"""Helpers for browser journeys."""

from __future__ import annotations

import os
from contextlib import contextmanager
from pathlib import Path

SCREENSHOTS = Path(os.environ.get("ALONGSIDE_SCREENSHOTS", "var/screenshots"))


def assert_accessible(page, name: str | None = None) -> None:
    """axe-core on the current page: no serious or critical violations. Saves a screenshot when named."""
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    violations = [
        f"{violation['id']} ({violation['impact']}): {violation['help']} at "
        + ", ".join(str(node["target"]) for node in violation["nodes"][:3])
        for violation in results.response["violations"]
        if violation["impact"] in ("serious", "critical")
    ]
    if name:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        # caret="initial": hiding the caret makes Playwright add a style element that the page's strict CSP
        # (rightly) refuses, which would show up as console errors on the next htmx swap.
        page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True, caret="initial")
    assert not violations, f"accessibility violations on {page.url}:\n" + "\n".join(violations)


def sign_in(page, base_url: str, email: str, password: str) -> None:
    page.goto(f"{base_url}/accounts/signin/")
    page.get_by_label("E-mail address").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state()


@contextmanager
def network_cut(page, live_server):
    """No network between this browser and the site, as on a phone with no signal.

    The browser's offline mode sets navigator.onLine and fails the page's requests, but now and then Chromium lets
    a request through that a service worker makes or passes on. So the site closes every connection unanswered
    during the cut as well, new ones and those already open, and the browser sees the same failure as without a
    network. Resources that fail to load meanwhile are what a cut means, not faults of the page.
    """
    server = live_server.thread.httpd
    handler_class = server.RequestHandlerClass

    def hang_up(handler):
        # Instead of parsing the request just read: no answer, and the handler shuts the connection. Looked up per
        # request, so it also holds on connections that were open and waiting before the cut.
        handler.close_connection = True
        return False

    cut = f"{live_server.url}/**"
    problems_before = len(page.console_problems)
    page.context.route(cut, lambda route: route.abort("internetdisconnected"))
    page.context.set_offline(True)
    server.verify_request = lambda request, client_address: False
    handler_class.parse_request = hang_up
    try:
        yield
    finally:
        del handler_class.parse_request
        del server.verify_request
        page.context.unroute(cut)
        page.context.set_offline(False)
        page.console_problems[problems_before:] = [
            problem
            for problem in page.console_problems[problems_before:]
            if "Failed to load resource: net::ERR_" not in problem
        ]
