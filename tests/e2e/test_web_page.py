"""The chat page in a real browser (Debian's Chromium driven by Playwright), against the real servers."""

from __future__ import annotations

import re
import subprocess
import sys
import time
from urllib.parse import urlsplit

import pytest
import requests
from playwright.sync_api import Page, expect, sync_playwright

from tests.helpers import REPO, report

pytestmark = pytest.mark.e2e

CHROMIUM = "/usr/bin/chromium"
# As the machine's own probe starts it: no sandbox as root, and no calls home on a closed network.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-sync",
                 "--disable-background-networking", "--disable-component-update"]
SCREENSHOTS = REPO / "results" / "screenshots"
PHONE = {"width": 375, "height": 812}
ANSWER_TIMEOUT = 20_000  # ms


@pytest.fixture(scope="module")
def page_url(assistant):
    port = assistant.page_port  # the origin the assistant's socket admits (tests/e2e/servers.py)
    server = subprocess.Popen([sys.executable, str(REPO / "web" / "serve.py"), "--port", str(port),
                               "--socket-url", assistant.url], cwd=REPO)
    url = f"http://127.0.0.1:{port}/"
    for _ in range(100):
        try:
            if requests.get(url, timeout=1).ok:
                break
        except requests.RequestException:
            time.sleep(0.1)
    yield url
    server.terminate()
    server.wait(timeout=10)


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture
def phone(browser, page_url):
    context = browser.new_context(viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True)
    page = context.new_page()
    page.requested = []
    page.on("request", lambda request: page.requested.append(request.url))
    page.goto(page_url)
    yield page
    context.close()


def ask(page: Page, text: str) -> None:
    page.fill(".rw-new-message", text)
    page.keyboard.press("Enter")


def bot_messages(page: Page):
    return page.locator("#webchat .rw-response")


def test_the_page_greets_says_what_it_is_and_loads_nothing_from_the_internet(phone):
    expect(phone.locator(".disclaimer")).to_contain_text("General information, not a diagnosis")
    expect(bot_messages(phone).first).to_contain_text("not a diagnosis", timeout=ANSWER_TIMEOUT)
    expect(phone.locator(".rw-reply").first).to_be_visible()
    hosts = {urlsplit(url).hostname for url in phone.requested if not url.startswith("data:")}
    assert hosts <= {"127.0.0.1", "localhost"}, hosts


def test_a_question_is_answered_and_a_quick_reply_works(phone):
    ask(phone, "can coffe make my lip twitch?")
    expect(bot_messages(phone).last).to_contain_text("Caffeine and other stimulants", timeout=ANSWER_TIMEOUT)
    phone.locator(".rw-reply", has_text="How do I treat it?").last.click()
    expect(bot_messages(phone).last).to_contain_text("Reducing caffeine", timeout=ANSWER_TIMEOUT)
    expect(phone.locator(".rw-markdown strong", has_text="Reducing caffeine")).to_be_visible()  # markdown


def test_an_answer_says_where_it_comes_from_in_small_print(phone):
    ask(phone, "can stress make my lip twitch?")
    source = phone.locator(".rw-response .source-line").last
    expect(source).to_contain_text("Source: Lip twitching article", timeout=ANSWER_TIMEOUT)
    expect(source).to_contain_text("not yet clinically reviewed")
    size = source.evaluate("e => parseFloat(getComputedStyle(e).fontSize)")
    answer_size = phone.locator(".rw-response .rw-markdown p:not(.source-line)").last.evaluate(
        "e => parseFloat(getComputedStyle(e).fontSize)")
    assert size < answer_size, (size, answer_size)


def test_the_conversation_survives_a_reload(phone):
    ask(phone, "what is lip fasciculation")
    expect(bot_messages(phone).last).to_contain_text("What lip twitching is", timeout=ANSWER_TIMEOUT)
    phone.reload()
    expect(phone.locator("#webchat")).to_contain_text("what is lip fasciculation", timeout=ANSWER_TIMEOUT)
    expect(phone.locator("#webchat")).to_contain_text("What lip twitching is")
    ask(phone, "tell me more")  # the same conversation goes on: "more" about what it is
    expect(bot_messages(phone).last).to_contain_text("small, involuntary movement", timeout=ANSWER_TIMEOUT)


def test_an_emergency_stands_out_with_a_tap_to_call_number(phone):
    ask(phone, "my mums face has dropped on one side")
    emergency = phone.locator("#webchat .rw-response.triage-emergency").last
    expect(emergency).to_be_visible(timeout=ANSWER_TIMEOUT)
    expect(emergency.locator(".triage-banner")).to_have_text(re.compile("emergency", re.I))
    expect(emergency.locator('a[href="tel:999"]')).to_be_visible()
    assert emergency.get_attribute("role") == "alert"
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    emergency.scroll_into_view_if_needed()
    phone.locator("#chat").screenshot(path=str(SCREENSHOTS / "phone-emergency.png"))
    report(f"screenshots: {SCREENSHOTS.relative_to(REPO)}/")


def test_the_chat_works_from_the_keyboard(phone):
    expect(phone.locator(".rw-reply").first).to_be_visible(timeout=ANSWER_TIMEOUT)
    first = phone.evaluate("document.querySelector('a[href], button, textarea, input, [tabindex]').className")
    assert first == "skip-link"  # the first stop of the page leads straight to the chat
    phone.focus(".skip-link")
    phone.keyboard.press("Enter")
    assert phone.evaluate("document.activeElement.id") == "chat"
    assert phone.get_attribute(".rw-new-message", "aria-label") == "Your message"
    reply = phone.locator(".rw-reply", has_text="What causes it?").last
    assert reply.get_attribute("role") == "button" and reply.get_attribute("tabindex") == "0"
    reply.focus()
    phone.keyboard.press("Enter")
    expect(bot_messages(phone).last).to_contain_text("several possible causes", timeout=ANSWER_TIMEOUT)


def test_phone_and_desktop_screenshots(browser, page_url, phone):
    ask(phone, "how do i stop my lip twitching")
    expect(bot_messages(phone).last).to_contain_text("settles on its own", timeout=ANSWER_TIMEOUT)
    assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]  # nothing sideways
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    phone.screenshot(path=str(SCREENSHOTS / "phone.png"), full_page=True)
    desktop = browser.new_page(viewport={"width": 1280, "height": 800})
    desktop.goto(page_url)
    expect(bot_messages(desktop).first).to_contain_text("not a diagnosis", timeout=ANSWER_TIMEOUT)
    desktop.screenshot(path=str(SCREENSHOTS / "desktop.png"))
    desktop.close()


def test_another_site_adds_the_chat_with_one_script_tag(browser, page_url):
    page = browser.new_page(viewport=PHONE)
    page.goto(page_url + "embed-example.html")
    page.locator(".rw-launcher").click(timeout=ANSWER_TIMEOUT)
    expect(page.locator(".rw-response").first).to_contain_text("not a diagnosis", timeout=ANSWER_TIMEOUT)
    ask(page, "my dad is slurring his words")
    emergency = page.locator(".rw-response.triage-emergency").last
    expect(emergency).to_be_visible(timeout=ANSWER_TIMEOUT)
    expect(emergency.locator('a[href="tel:999"]')).to_be_visible()
    page.close()


def test_the_safety_net_question_stands_out_and_its_buttons_answer_it(phone):
    ask(phone, "I was laughing so hard at the film and then my speech went weird")
    question = phone.locator("#webchat .rw-response.triage-ask").last
    expect(question).to_be_visible(timeout=ANSWER_TIMEOUT)
    expect(question.locator(".triage-banner")).to_have_text(re.compile("safety check", re.I))
    for title in ("Face drooping", "Arm or leg weak", "Speech slurred or muddled", "None of these"):
        expect(phone.locator(".rw-reply", has_text=title).last).to_be_visible()
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    phone.locator("#chat").screenshot(path=str(SCREENSHOTS / "phone-safety-question.png"))
    phone.locator(".rw-reply", has_text="None of these").last.click()
    expect(bot_messages(phone).last).to_contain_text("What would you like to know", timeout=ANSWER_TIMEOUT)
    ask(phone, "I was laughing so hard at the film and then my speech went weird")
    expect(phone.locator("#webchat .rw-response.triage-ask")).to_have_count(2, timeout=ANSWER_TIMEOUT)
    phone.locator(".rw-reply", has_text="Speech slurred or muddled").last.click()
    expect(phone.locator("#webchat .rw-response.triage-emergency").last).to_be_visible(timeout=ANSWER_TIMEOUT)


def test_the_pages_country_picks_the_emergency_number(browser, page_url, assistant):
    page = browser.new_page(viewport=PHONE)
    # A site in the US sets its country (web/serve.py --country US): here config.js is answered as it would be.
    page.route("**/config.js", lambda route: route.fulfill(
        content_type="text/javascript",
        body=f'window.LIPTWITCH_CONFIG = {{"socketUrl": "{assistant.url}", "country": "US"}};\n'))
    page.goto(page_url)
    expect(bot_messages(page).first).to_contain_text("not a diagnosis", timeout=ANSWER_TIMEOUT)
    ask(page, "my mums face has dropped on one side")
    emergency = page.locator("#webchat .rw-response.triage-emergency").last
    expect(emergency).to_be_visible(timeout=ANSWER_TIMEOUT)
    expect(emergency.locator('a[href="tel:911"]')).to_be_visible()
    expect(emergency).not_to_contain_text("999")
    page.close()
