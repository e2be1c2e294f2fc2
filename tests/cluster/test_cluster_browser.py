"""The chat page through the cluster's nginx, in a real browser (Debian's Chromium driven by Playwright): the
page, the widget's socket to a Rasa server chosen by nginx, and the conversation carrying on when that Rasa
server dies. Runs after test_cluster.py (it kills a server and leaves it down)."""

from __future__ import annotations

import time

import pytest
from playwright.sync_api import expect, sync_playwright

from liptwitch.operations.cluster import wait_until_ready
from tests.e2e.test_web_page import ANSWER_TIMEOUT, CHROMIUM, CHROMIUM_ARGS, ask, bot_messages

pytestmark = pytest.mark.cluster


def rasa_server_of_last_socket_request(cluster) -> int:
    lines = (cluster.logs / "nginx-access.log").read_text().strip().splitlines()
    upstream = next(line for line in reversed(lines) if "/socket.io/" in line).rsplit("upstream=", 1)[1]
    return cluster.rasa_ports.index(int(upstream.split(",")[-1].strip().rsplit(":", 1)[1]))


def test_the_chat_page_answers_through_nginx_and_carries_on_when_its_rasa_server_dies(cluster):
    wait_until_ready(cluster.rasa_servers)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            page.goto(f"{cluster.url}/")
            expect(bot_messages(page).first).to_contain_text("not a diagnosis", timeout=ANSWER_TIMEOUT)
            ask(page, "can coffe make my lip twitch?")
            expect(bot_messages(page).last).to_contain_text("Caffeine and other stimulants", timeout=ANSWER_TIMEOUT)

            cluster.rasa_servers[rasa_server_of_last_socket_request(cluster)].kill()
            time.sleep(3)  # the widget notices, and reconnects through nginx to the other server
            ask(page, "how do i treat that?")  # "that" is caffeine: the conversation's context, from PostgreSQL
            expect(bot_messages(page).last).to_contain_text("Reducing caffeine", timeout=60_000)
        finally:
            browser.close()
