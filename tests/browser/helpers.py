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
def network_cut(page, live_server, *, device_knows: bool = True, gateway_answers: int | None = None):
    """No network between this browser and the site, as on a phone with no signal; with `device_knows=False`,
    as on one that believes it is online (a weak signal, a captive portal) while nothing gets through; with
    `gateway_answers=503` (say), as behind a gateway that answers for the site it cannot reach.

    The browser's offline mode sets navigator.onLine and fails the page's requests, but now and then Chromium lets
    a request through that a service worker makes or passes on. So the site closes every connection unanswered
    during the cut as well, new ones and those already open, and the browser sees the same failure as without a
    network. Resources that fail to load meanwhile are what a cut means, not faults of the page.
    """
    server = live_server.thread.httpd
    handler_class = server.RequestHandlerClass
    application = server.get_app()

    def hang_up(handler):
        # Instead of parsing the request just read: no answer, and the handler shuts the connection. Looked up per
        # request, so it also holds on connections that were open and waiting before the cut.
        handler.close_connection = True
        return False

    def gateway(environ, start_response):
        start_response(f"{gateway_answers} Gateway", [("Content-Type", "text/plain")])
        return [b"The site cannot be reached."]

    cut = f"{live_server.url}/**"
    problems_before = len(page.console_problems)
    if device_knows:
        page.context.route(cut, lambda route: route.abort("internetdisconnected"))
        page.context.set_offline(True)
    if gateway_answers:
        server.set_app(gateway)
    else:
        server.verify_request = lambda request, client_address: False
        handler_class.parse_request = hang_up
    try:
        yield
    finally:
        if gateway_answers:
            server.set_app(application)
        else:
            del handler_class.parse_request
            del server.verify_request
        if device_knows:
            page.context.unroute(cut)
            page.context.set_offline(False)
        expected = ("Failed to load resource: net::ERR_", f"the server responded with a status of {gateway_answers}")
        page.console_problems[problems_before:] = [
            problem
            for problem in page.console_problems[problems_before:]
            if not any(failure in problem for failure in expected)
        ]
