"""The demo exactly as `make demo` runs it: a real `alongside demo` process (gunicorn + worker) on a free port,
visited in Chromium as an anonymous visitor, a member and a clinician."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request

import pytest
from playwright.sync_api import expect

from alongside.demo import DEMO_PASSWORD
from tests.browser.helpers import assert_accessible, sign_in


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def fetch_health(base_url: str) -> dict:
    with urllib.request.urlopen(base_url + "/healthz", timeout=5) as response:
        return json.load(response)


@pytest.fixture(scope="module")
def demo_server(tmp_path_factory):
    port = free_port()
    env = {key: value for key, value in os.environ.items() if not key.startswith("ALONGSIDE_")}
    env["ALONGSIDE_DATA_DIR"] = str(tmp_path_factory.mktemp("demo-data"))
    log = tmp_path_factory.mktemp("demo-log") / "demo.log"
    with open(log, "w") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "alongside", "demo", "--port", str(port)],
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    base_url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    while "Press Ctrl-C to stop." not in log.read_text():
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            pytest.fail("alongside demo did not start:\n" + log.read_text())
        time.sleep(0.3)
    yield {"url": base_url, "process": process, "log": log, "env": env}
    if process.poll() is None:
        process.kill()
        process.wait()


def test_demo_prints_logins_and_reports_a_live_worker(demo_server):
    output = demo_server["log"].read_text()
    for email in ("member@demo.example", "clinician@demo.example", "admin@demo.example"):
        assert email in output
    assert f"password for all: {DEMO_PASSWORD}" in output
    deadline = time.monotonic() + 30
    health = fetch_health(demo_server["url"])
    while not health["worker"]["ok"] and time.monotonic() < deadline:
        time.sleep(0.5)
        health = fetch_health(demo_server["url"])
    assert health["status"] == "ok", health
    assert health["database"]["vendor"] == "sqlite"
    assert health["worker"]["running"] == 1


def test_visitor_reaches_the_crisis_page_without_signing_in(demo_server, page):
    page.goto(demo_server["url"] + "/")
    assert "/accounts/signin/" in page.url
    page.get_by_role("link", name="Need help now?").click()
    emergency = page.get_by_role("link", name="If you are in immediate danger, call 911 now.")
    assert emergency.get_attribute("href") == "tel:911"
    assert page.get_by_role("link", name="Text 988").get_attribute("href") == "sms:988"
    assert_accessible(page, "demo-crisis-anonymous")


def test_demo_member_signs_in_and_sees_their_space(demo_server, page):
    assert_accessible_signin(page, demo_server["url"])
    sign_in(page, demo_server["url"], "member@demo.example", DEMO_PASSWORD)
    assert page.url.endswith("/me/")
    assert page.get_by_role("heading", level=1).inner_text() == "Hello, Sam R."
    assert page.get_by_text("Riverside Recovery Collective").is_visible()
    assert page.get_by_role("link", name="My space").get_attribute("aria-current") == "page"
    assert page.get_by_role("link", name="Care team").count() == 0
    assert_accessible(page, "demo-member-home")
    page.get_by_role("link", name="My check-ins").click()
    # Charts not drawn since the data changed arrive in requests of their own, as soon as the page is there.
    page.get_by_role("img", name="Mood and Anxiety, last 30 days").wait_for()
    page.get_by_role("img", name="PHQ-9 over time").wait_for()
    expect(page.locator(".chart-pending")).to_have_count(0)
    assert_accessible(page, "demo-member-history")


def test_demo_clinician_signs_in_with_a_second_factor(demo_server, page):
    sign_in(page, demo_server["url"], "clinician@demo.example", DEMO_PASSWORD)
    assert "/accounts/two-factor/" in page.url
    assert_accessible(page, "demo-two-factor")
    # The code comes from `alongside totp`, exactly as the README tells demo users.
    code = subprocess.run(
        [sys.executable, "-m", "alongside", "totp", "clinician@demo.example"],
        env={**demo_server["env"], "ALONGSIDE_DEMO": "1"},
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    page.get_by_label("Code").fill(code)
    page.get_by_role("button", name="Continue").click()
    assert page.url.endswith("/team/")
    assert page.get_by_role("heading", level=1).inner_text() == "Hello, Dr. Maya Chen"
    supported = page.get_by_role("region", name="People you support")
    assert supported.get_by_role("link", name="Sam R.").is_visible()
    assert page.get_by_role("link", name="My space").count() == 0
    assert_accessible(page, "demo-clinician-home")
    page.get_by_role("button", name="Sign out").click()
    assert "/accounts/signin/" in page.url


def test_stopping_the_demo_stops_web_and_worker_cleanly(demo_server):
    process = demo_server["process"]
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=30) == 0
    with pytest.raises(OSError):
        fetch_health(demo_server["url"])
    assert "stopped" in demo_server["log"].read_text()


def assert_accessible_signin(page, base_url: str) -> None:
    page.goto(base_url + "/accounts/signin/")
    assert_accessible(page, "demo-signin")
