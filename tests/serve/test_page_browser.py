"""The web page at / in headless Chromium: type a comment, submit, read the bars and the highlighted words.

The browser is Debian's ``/usr/bin/chromium`` driven by Playwright; no browser is ever
downloaded. Without it the browser tests skip with a message (and fail under CI=true).
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

import pytest

from smartmod.serve.page import STATIC_DIRECTORY
from tests.serve.conftest import TEST_LIMITS

try:
    from playwright.sync_api import expect, sync_playwright
except ImportError:  # the browser fixture skips (or fails under CI=true) with the reason
    expect = sync_playwright = None

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGUMENTS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                      "--disable-background-networking", "--disable-component-update", "--disable-sync"]
INSULT = "You are a worthless idiot, shut up."
XSS = "<img src=x onerror=window.__xss=1><script>window.__xss=2</script>"
RESULT_SECONDS = 20


def browser_unavailable(message: str) -> None:
    """Skip, or fail under CI=true, where the browser test must run."""
    if os.environ.get("CI") == "true":
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        browser_unavailable(f"no Chromium at {CHROMIUM}; install Debian's with 'apt-get install chromium' (no browser is downloaded)")
    if sync_playwright is None:
        browser_unavailable("the playwright package is missing; install the test extra: pip install -e '.[test]'")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGUMENTS)
        yield launched
        launched.close()


@dataclass
class OpenPage:
    """The page loaded from the server, with every URL it requested and every console error it logged."""

    page: Any
    origin: str
    requested: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)

    def submit_and_wait(self, submit_key: str = "") -> None:
        """Submit (by clicking, or with ``submit_key`` on the focused element) and wait for the results or an error."""
        if submit_key:
            self.page.keyboard.press(submit_key)
        else:
            self.page.click("#check")
        self.page.wait_for_selector("#results:not([hidden]), #error:not([hidden])", timeout=RESULT_SECONDS * 1000)

    def focused_id(self) -> str:
        return self.page.evaluate("document.activeElement.id")


@pytest.fixture
def page(browser, server) -> Iterator[OpenPage]:
    context = browser.new_context()
    opened = OpenPage(context.new_page(), f"http://127.0.0.1:{server.port}")
    opened.page.on("request", lambda request: opened.requested.append(request.url))
    opened.page.on("console", lambda message: message.type == "error" and opened.console_errors.append(message.text))
    opened.page.on("pageerror", lambda error: opened.console_errors.append(str(error)))
    opened.page.goto(opened.origin + "/")
    expect(opened.page.locator("#model")).to_have_text(re.compile(r"^Model: "))
    yield opened
    context.close()


def test_a_typed_comment_shows_a_bar_per_category_the_flag_and_highlighted_words(page, server):
    page.page.click("#comment")
    page.page.keyboard.type(INSULT)
    page.submit_and_wait()
    expected = server.post_json("/v1/explain", {"text": INSULT}).json()
    for category, score in expected["scores"].items():
        meter = page.page.get_by_role("meter", name=category, exact=True)
        assert abs(float(meter.evaluate("meter => meter.value")) - score) < 1e-6
    assert page.page.locator("meter").count() == len(expected["scores"])
    verdict = page.page.text_content("#verdict")
    assert expected["flagged"] and verdict.startswith("Flagged") and all(category in verdict for category in expected["categories"])
    assert page.page.text_content("#highlighted") == INSULT
    shown = page.page.eval_on_selector_all("#highlighted .token", "spans => spans.map(s => [s.textContent, Number(s.dataset.importance)])")
    assert shown == [[token["text"], pytest.approx(token["importance"])] for token in expected["tokens"]]
    assert page.page.eval_on_selector_all("#highlighted mark.harmful", "marks => marks.map(m => m.textContent)") == [
        span["text"] for span in expected["spans"]]
    top_word = max(expected["tokens"], key=lambda token: token["importance"])["text"]
    assert page.page.text_content("#top-words li").startswith(top_word)


def test_the_most_important_word_has_the_strongest_highlight(page):
    page.page.fill("#comment", INSULT)
    page.submit_and_wait()
    strengths = page.page.eval_on_selector_all("#highlighted .token", """spans => spans.map(span => {
        const channels = getComputedStyle(span).backgroundColor.match(/[0-9.]+/g).map(Number);  // r, g, b and alpha unless 1
        return [Math.abs(Number(span.dataset.importance)), channels.length === 4 ? channels[3] : 1];
    })""")
    strongest_word = max(strengths)
    assert strongest_word[1] == max(alpha for _, alpha in strengths) > 0.5
    assert min(strengths)[1] < strongest_word[1]


def test_ctrl_enter_in_the_comment_box_submits(page):
    page.page.click("#comment")
    page.page.keyboard.type("Thank you for the thoughtful review.")
    page.submit_and_wait("Control+Enter")
    assert page.page.is_visible("#results") and page.page.text_content("#verdict").startswith("Not flagged")
    assert page.focused_id() == "comment"


def test_the_page_works_from_the_keyboard_alone_with_visible_focus(page):
    page.page.keyboard.press("Tab")
    assert page.focused_id() == "comment"
    page.page.keyboard.type(INSULT)
    page.page.keyboard.press("Tab")
    assert page.focused_id() == "check"
    outline = page.page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline not in ("none", ""), "the focused button has no visible outline"
    page.submit_and_wait("Enter")
    assert page.page.text_content("#status").startswith("Flagged")


def test_a_script_injection_attempt_is_shown_as_text_and_runs_nothing(page):
    page.page.click("#comment")
    page.page.keyboard.type(XSS)
    page.submit_and_wait()
    assert page.page.is_visible("#results")
    assert page.page.text_content("#highlighted") == XSS
    assert page.page.evaluate("window.__xss") is None
    assert page.page.locator("img").count() == 0
    assert page.page.eval_on_selector_all("script", "scripts => scripts.map(s => s.getAttribute('src'))") == ["/static/page.js"]
    assert page.page.locator("[onerror]").count() == 0


def test_an_api_error_is_shown_in_the_page(page):
    page.page.fill("#comment", "a" * (TEST_LIMITS["max_text_chars"] + 1))
    page.submit_and_wait()
    error = page.page.locator("#error")
    assert error.is_visible() and error.get_attribute("role") == "alert"
    assert "max_text_chars" in error.text_content() and str(TEST_LIMITS["max_text_chars"]) in error.text_content()
    assert page.page.is_hidden("#results")


def test_an_empty_comment_asks_for_one_without_calling_the_api(page):
    page.page.click("#check")
    assert page.page.text_content("#error") == "Type or paste a comment first."
    assert not [url for url in page.requested if url.endswith("/v1/explain")]


def test_the_page_loads_only_from_its_own_server_without_errors(page):
    page.page.fill("#comment", INSULT)
    page.submit_and_wait()
    assert page.requested and all(url.startswith(page.origin + "/") for url in page.requested), page.requested
    assert page.console_errors == []


def test_the_page_is_served_with_a_strict_content_security_policy(server):
    reply = server.get("/")
    assert reply.status == 200 and reply.headers["content-type"] == "text/html; charset=utf-8"
    policy = reply.headers["content-security-policy"]
    assert "default-src 'none'" in policy and "script-src 'self'" in policy and "unsafe-inline" not in policy
    assert reply.headers["x-content-type-options"] == "nosniff"


@pytest.mark.parametrize("path, content_type", [("/static/page.js", "text/javascript; charset=utf-8"),
                                                ("/static/page.css", "text/css; charset=utf-8"),
                                                ("/static/favicon.svg", "image/svg+xml")])
def test_the_page_files_are_served_from_the_package_with_their_content_types(server, path, content_type):
    reply = server.get(path)
    assert reply.status == 200 and reply.headers["content-type"] == content_type
    assert reply.body == (STATIC_DIRECTORY / path.rsplit("/", 1)[1]).read_bytes()


def test_the_page_files_name_nothing_outside_the_server_and_hold_no_inline_script():
    for path in STATIC_DIRECTORY.iterdir():
        text = path.read_text()
        assert not re.search(r"(https?:)?//[a-z0-9.-]+\.[a-z]{2,}", text.replace("http://www.w3.org/2000/svg", "")), path
        assert "innerHTML" not in text and "outerHTML" not in text and "insertAdjacentHTML" not in text, path
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", (STATIC_DIRECTORY / "index.html").read_text())
