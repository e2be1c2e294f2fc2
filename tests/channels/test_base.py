"""The channels' shared base: a reply to a platform is retried when the platform may take it on another try, and
given up at once when it refused it. The platform is a real HTTP server on 127.0.0.1."""

from __future__ import annotations

import asyncio

import pytest
from aiohttp import web

from liptwitch.channels import base
from liptwitch.channels.base import SendError, post_to_platform


@pytest.fixture(autouse=True)
def quick_retries(monkeypatch):
    monkeypatch.setattr(base, "SEND_FIRST_WAIT", 0.01)


async def platform_answering(statuses: list[int], tried: list[int]) -> tuple[web.AppRunner, str]:
    async def receive(request: web.Request) -> web.Response:
        status = statuses[min(len(tried), len(statuses) - 1)]
        tried.append(status)
        return web.json_response({"ok": status < 300}, status=status)

    app = web.Application()
    app.router.add_post("/send", receive)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]
    return runner, f"http://127.0.0.1:{port}/send"


def send(statuses: list[int]) -> tuple[object, list[int]]:
    tried: list[int] = []

    async def run() -> object:
        runner, url = await platform_answering(statuses, tried)
        try:
            return await post_to_platform("Telegram", url, json={"text": "hello"})
        except SendError as error:
            return error
        finally:
            await runner.cleanup()

    return asyncio.run(run()), tried


def test_a_reply_the_platform_could_not_take_is_tried_again_until_it_is_taken():
    answer, tried = send([503, 429, 200])
    assert answer == {"ok": True} and tried == [503, 429, 200]


def test_a_reply_is_given_up_after_the_last_try_and_the_error_says_why(caplog):
    answer, tried = send([502])
    assert isinstance(answer, SendError) and "HTTP 502" in str(answer)
    assert len(tried) == base.SEND_TRIES
    assert "try 3 of 3" in caplog.text and "hello" not in caplog.text  # never the text in the log


def test_a_reply_the_platform_refused_is_not_tried_again():
    answer, tried = send([403])
    assert isinstance(answer, SendError) and "refused a reply: HTTP 403" in str(answer) and tried == [403]
