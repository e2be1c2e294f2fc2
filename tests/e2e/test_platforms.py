"""End to end, on each messaging platform: webhook requests shaped and signed as the platform sends
them reach the running assistant, and its replies leave through the platform's API (a local fake,
see platform_api.py) in the platform's own format. Forged, altered and stale requests are refused
before the assistant sees them."""

from __future__ import annotations

import itertools
import json
import re
import time
import uuid
from urllib.parse import urlencode

import pytest
import requests
import yaml

from liptwitch.channels.base import NOT_TEXT_REPLY
from liptwitch.core.answers import INTRO
from liptwitch.core.knowledge_base import load_knowledge_base
from liptwitch.core.messaging import MESSENGER, NUMBERED_PROMPT, PLAIN, canonical, convert
from tests.e2e.platform_api import (
    SECRETS,
    messenger_headers,
    slack_headers,
    telegram_headers,
    twilio_headers,
)
from tests.helpers import REPO

pytestmark = pytest.mark.e2e

KB = load_knowledge_base(REPO / "data" / "knowledge_base")
CAUSES = KB.of_kind("cause")
QUIET = 3  # seconds to wait for a reply that must not come
_numbers = itertools.count(int(time.time()))


def unique(prefix: str) -> str:
    return f"{prefix}{uuid.uuid4().hex[:10]}"


def post(assistant, platform: str, body: bytes, headers: dict[str, str]) -> requests.Response:
    return requests.post(f"{assistant.url}/webhooks/{platform}/webhook", data=body, headers=headers, timeout=30)


def replies(platform_api, recipient: str, count: int = 1, after: int = 0) -> list:
    """The next `count` messages sent to `recipient`, after the first `after` of them. (The first answer
    of a conversation comes after a message of its own that introduces the assistant.)"""
    return platform_api.wait_for(recipient, count=after + count)[after:]


def assert_nothing_sent(platform_api, recipient: str) -> None:
    time.sleep(QUIET)
    assert platform_api.to(recipient) == [], "a refused request was answered"


def domain_response(name: str, country: str | None = None) -> str:
    """The text of a response in domain.yml as written: a country's variation, or the one for no country."""
    for variation in yaml.safe_load((REPO / "domain.yml").read_text())["responses"][name]:
        values = [condition.get("value") for condition in variation.get("condition") or []]
        if (country in values) if country else not values:
            return variation["text"]
    raise AssertionError(f"{name} has no variation for {country}")


# --- Telegram -----------------------------------------------------------------------------------

def telegram_update(chat_id: int, text: str | None = None, **message: object) -> dict:
    content = {"text": text} if text is not None else message
    return {"update_id": next(_numbers), "message": {
        "message_id": next(_numbers), "date": int(time.time()),
        "from": {"id": chat_id, "is_bot": False, "first_name": "Sam", "language_code": "en"},
        "chat": {"id": chat_id, "first_name": "Sam", "type": "private"}, **content}}


def send_telegram(assistant, update: dict, **signing: str) -> requests.Response:
    return post(assistant, "telegram", json.dumps(update).encode(), telegram_headers(**signing))


def test_telegram_answers_in_html_with_a_reply_keyboard_and_a_tap_picks_the_option(assistant, platform_api):
    chat = next(_numbers)
    assert send_telegram(assistant, telegram_update(chat, "can coffee make my lip twitch?")).status_code == 200
    intro, call = replies(platform_api, str(chat), count=2)
    assert intro.body["text"] == INTRO and intro.body["reply_markup"] == {"remove_keyboard": True}
    assert call.path == f"/telegram/bot{SECRETS['TELEGRAM_BOT_TOKEN']}/sendMessage"
    assert call.body["parse_mode"] == "HTML"
    assert "<b>Caffeine and other stimulants</b>" in call.body["text"] and "**" not in call.body["text"]
    keyboard = [row[0]["text"] for row in call.body["reply_markup"]["keyboard"]]
    assert keyboard == ["How do I treat it?", "Tell me more", "Other causes", "👍 Helpful", "👎 Not helpful"]

    # A tap on the reply keyboard sends the title as text: it picks that option's question.
    send_telegram(assistant, telegram_update(chat, "How do I treat it?"))
    [answer] = replies(platform_api, str(chat), after=2)
    treatment = KB.related_of_kind("caffeine", "treatment")[0]
    assert f"<b>{treatment.title}</b>" in answer.body["text"]
    assert answer.body["text"].rstrip().endswith("· not yet clinically reviewed</i>")  # its source, in small print

    # 👎 from the reply keyboard: recorded, and the person is asked what was missing.
    send_telegram(assistant, telegram_update(chat, "👎 Not helpful"))
    [asked] = replies(platform_api, str(chat), after=3)
    assert "What was missing?" in asked.body["text"]


def test_telegram_refuses_a_request_without_the_secret_token(assistant, platform_api):
    chat = next(_numbers)
    refused = send_telegram(assistant, telegram_update(chat, "hello"), secret="guessed-secret")
    assert refused.status_code == 403
    assert_nothing_sent(platform_api, str(chat))
    # The forged message never entered the conversation: the first real answer still introduces itself.
    send_telegram(assistant, telegram_update(chat, "is lip twitching serious?"))
    intro, answer = replies(platform_api, str(chat), count=2)
    assert intro.body["text"] == INTRO and KB.get("seriousness").title in answer.body["text"]


def test_telegram_start_greets_and_a_sticker_gets_a_polite_answer_once(assistant, platform_api):
    chat = next(_numbers)
    send_telegram(assistant, telegram_update(chat, "/start"))
    [greeting] = platform_api.wait_for(str(chat))
    assert "Lip Twitch Guide" in greeting.body["text"]

    sticker = telegram_update(chat, sticker={"file_id": "CAACAgIAAxkBAAE", "emoji": "\U0001f44d"})
    send_telegram(assistant, sticker)
    send_telegram(assistant, sticker)  # Telegram redelivers an update it thinks was lost
    calls = platform_api.wait_for(str(chat), count=2)
    assert len(calls) == 2 and calls[1].body["text"] == NOT_TEXT_REPLY


def test_telegram_emergency_advice_arrives_whole_in_one_message(assistant, platform_api):
    chat = next(_numbers)
    send_telegram(assistant, telegram_update(chat, "my moms face is drooping on one side and she cant talk properly"))
    [call] = platform_api.wait_for(str(chat))
    # No country from Telegram (and none set for the deployment): the UK, EU and US numbers.
    for line in canonical(domain_response("utter_emergency")).split("\n"):
        assert convert(line, "html") in call.body["text"]


# --- Slack --------------------------------------------------------------------------------------

def slack_event(channel: str, user: str, text: str) -> bytes:
    ts = f"{time.time():.6f}"
    return json.dumps({
        "token": "verification-token-unused", "team_id": "T0001", "api_app_id": "A0001", "type": "event_callback",
        "event_id": unique("Ev"), "event_time": int(time.time()),
        "authorizations": [{"team_id": "T0001", "user_id": "UBOT", "is_bot": True}],
        "event": {"type": "message", "channel_type": "im", "channel": channel, "user": user, "text": text,
                  "ts": ts, "event_ts": ts, "team": "T0001"}}).encode()


def slack_click(channel: str, user: str, value: str) -> bytes:
    payload = {"type": "block_actions", "user": {"id": user}, "channel": {"id": channel},
               "message": {"ts": f"{time.time():.6f}"}, "actions": [
                   {"type": "button", "action_id": "option_1", "value": value, "action_ts": f"{time.time():.6f}"}]}
    return urlencode({"payload": json.dumps(payload)}).encode()


def test_slack_answers_in_mrkdwn_with_buttons_and_a_click_asks_that_question(assistant, platform_api):
    channel, user = unique("D"), unique("U")
    body = slack_event(channel, user, "what causes lip twitching?")
    assert post(assistant, "slack", body, slack_headers(body)).status_code == 200
    _, call = replies(platform_api, channel, count=2)
    assert call.path == "/slack/api/chat.postMessage"
    assert call.headers["Authorization"] == f"Bearer {SECRETS['SLACK_BOT_TOKEN']}"
    section, actions = call.body["blocks"]
    assert section["text"]["type"] == "mrkdwn"
    text = section["text"]["text"]
    assert "**" not in text and all(f"*{cause.title}*" in text for cause in CAUSES)
    buttons = {button["text"]["text"]: button["value"] for button in actions["elements"]}
    assert buttons["How do I stop it?"] == "/ask_treatment"

    click = slack_click(channel, user, buttons["How do I stop it?"])
    response = post(assistant, "slack", click, slack_headers(click, content_type="application/x-www-form-urlencoded"))
    assert response.status_code == 200
    [answer] = replies(platform_api, channel, after=2)
    answer = answer.body["blocks"][0]["text"]["text"]
    assert all(f"*{treatment.title}*" in answer for treatment in KB.of_kind("treatment"))


def test_slack_request_url_check_gets_its_challenge_back_only_when_signed(assistant):
    body = json.dumps({"token": "unused", "challenge": "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P",
                       "type": "url_verification"}).encode()
    answered = post(assistant, "slack", body, slack_headers(body))
    assert answered.status_code == 200
    assert answered.json() == {"challenge": "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P"}
    assert post(assistant, "slack", body, slack_headers(body, secret="guess")).status_code in (400, 401, 403)


@pytest.mark.parametrize("attack", ["forged", "altered", "stale", "unsigned"])
def test_slack_refuses_forged_altered_stale_and_unsigned_requests(assistant, platform_api, attack):
    channel, user = unique("D"), unique("U")
    body = slack_event(channel, user, "what causes lip twitching?")
    headers = {
        "forged": slack_headers(body, secret="not-the-signing-secret"),
        "altered": slack_headers(body),
        "stale": slack_headers(body, timestamp=int(time.time()) - 10 * 60),  # a replayed old request
        "unsigned": {"Content-Type": "application/json"},
    }[attack]
    if attack == "altered":
        body = body.replace(b"what causes", b"tell me about")
    response = post(assistant, "slack", body, headers)
    assert response.status_code in (400, 401, 403)
    assert_nothing_sent(platform_api, channel)


# --- Facebook Messenger -------------------------------------------------------------------------

def messenger_body(*events: dict) -> bytes:
    return json.dumps({"object": "page", "entry": [{"id": "PAGE1", "time": int(time.time() * 1000),
                                                     "messaging": list(events)}]}).encode()


def messenger_message(psid: str, text: str | None = None, quick_reply: str | None = None) -> dict:
    message = {"mid": unique("m_"), "text": text}
    if quick_reply:
        message["quick_reply"] = {"payload": quick_reply}
    return {"sender": {"id": psid}, "recipient": {"id": "PAGE1"}, "timestamp": int(time.time() * 1000),
            "message": message}


def test_messenger_checks_the_verify_token_when_the_webhook_is_registered(assistant):
    url = f"{assistant.url}/webhooks/messenger/webhook"
    ok = requests.get(url, params={"hub.mode": "subscribe", "hub.verify_token": SECRETS["MESSENGER_VERIFY_TOKEN"],
                                   "hub.challenge": "1158201444"}, timeout=10)
    assert ok.status_code == 200 and ok.text == "1158201444"
    wrong = requests.get(url, params={"hub.mode": "subscribe", "hub.verify_token": "guess", "hub.challenge": "1"},
                         timeout=10)
    assert wrong.status_code == 403


def test_messenger_answers_in_plain_text_with_quick_replies_within_its_limits(assistant, platform_api):
    psid = unique("")
    body = messenger_body(messenger_message(psid, "when should i see a doctor about my lip twitching"))
    assert post(assistant, "messenger", body, messenger_headers(body)).status_code == 200
    _, call = replies(platform_api, psid, count=2)
    assert call.path == "/graph/v19.0/me/messages"
    assert call.query["access_token"] == [SECRETS["MESSENGER_PAGE_ACCESS_TOKEN"]]
    assert call.body["messaging_type"] == "RESPONSE"
    message = call.body["message"]
    assert "**" not in message["text"] and len(message["text"]) <= MESSENGER.max_chars
    quick_replies = message["quick_replies"]
    assert 0 < len(quick_replies) <= 13 and all(len(reply["title"]) <= 20 for reply in quick_replies)

    # A tap on a quick reply sends its payload back.
    serious = next(reply for reply in quick_replies if reply["title"] == "Is it serious?")
    body = messenger_body(messenger_message(psid, "Is it serious?", quick_reply=serious["payload"]))
    post(assistant, "messenger", body, messenger_headers(body))
    [answer] = replies(platform_api, psid, after=2)
    assert KB.get("seriousness").title in answer.body["message"]["text"]


def test_messenger_answers_every_message_of_a_batch(assistant, platform_api):
    first, second = unique(""), unique("")
    body = messenger_body(messenger_message(first, "what causes lip twitching"),
                          messenger_message(second, "how do i stop my lip twitching"))
    post(assistant, "messenger", body, messenger_headers(body))
    assert platform_api.wait_for(first) and platform_api.wait_for(second)


@pytest.mark.parametrize("attack", ["forged", "altered", "sha1 only"])
def test_messenger_refuses_forged_and_altered_requests(assistant, platform_api, attack):
    psid = unique("")
    body = messenger_body(messenger_message(psid, "what causes lip twitching"))
    headers = messenger_headers(body, secret="not-the-app-secret") if attack == "forged" else messenger_headers(body)
    if attack == "altered":
        body = body.replace(b"what causes", b"how to stop")
    if attack == "sha1 only":  # the legacy header alone is not enough
        headers = {"X-Hub-Signature": "sha1=" + "0" * 40, "Content-Type": "application/json"}
    assert post(assistant, "messenger", body, headers).status_code == 403
    assert_nothing_sent(platform_api, psid)


# --- Twilio: SMS and WhatsApp -------------------------------------------------------------------

def twilio_params(sender: str, text: str, to: str = "+447700900000", country: str | None = "GB") -> dict[str, str]:
    sid = "SM" + uuid.uuid4().hex
    params = {"ToCountry": "GB", "SmsMessageSid": sid, "NumMedia": "0", "SmsSid": sid, "SmsStatus": "received",
              "Body": text, "To": to, "NumSegments": "1", "MessageSid": sid,
              "AccountSid": SECRETS["TWILIO_ACCOUNT_SID"], "From": sender, "ApiVersion": "2010-04-01"}
    if country:
        params["FromCountry"] = country
    return params


def send_twilio(assistant, params: dict[str, str], headers: dict[str, str] | None = None) -> requests.Response:
    return post(assistant, "twilio", urlencode(params).encode(), headers or twilio_headers(params))


def phone() -> str:
    return f"+4477009{uuid.uuid4().int % 100000:05d}"


def numbered(body: str) -> dict[int, str]:
    assert NUMBERED_PROMPT in body, body
    return {int(number): title for number, title in re.findall(r"^(\d+)\. (.+)$", body, re.M)}


def test_sms_numbered_options_and_a_reply_of_a_number_picks_that_option(assistant, platform_api):
    me = phone()
    response = send_twilio(assistant, twilio_params(me, "what causes lip twitching"))
    assert response.status_code == 200 and "<Response>" in response.text
    _, call = replies(platform_api, me, count=2)
    assert call.path == f"/twilio/2010-04-01/Accounts/{SECRETS['TWILIO_ACCOUNT_SID']}/Messages.json"
    assert call.headers["Authorization"].startswith("Basic ")
    assert call.body["From"] == "+447700900000" and call.body["To"] == me
    assert "**" not in call.body["Body"] and "Stress and anxiety" in call.body["Body"]
    assert numbered(call.body["Body"])[1] == "How do I stop it?"

    send_twilio(assistant, twilio_params(me, "tell me more"))
    menu = numbered(replies(platform_api, me, after=2)[0].body["Body"])
    assert [menu[number] for number in sorted(menu)] == [cause.title for cause in CAUSES] + ["👍 Helpful",
                                                                                          "👎 Not helpful"]

    send_twilio(assistant, twilio_params(me, "3"))
    answer = replies(platform_api, me, after=3)[0].body["Body"]
    assert answer.startswith(CAUSES[2].title)
    assert not any(cause.title in answer for cause in CAUSES if cause is not CAUSES[2])


def test_whatsapp_replies_from_the_whatsapp_sender_with_whatsapp_bold(assistant, platform_api):
    me = f"whatsapp:{phone()}"
    send_twilio(assistant, twilio_params(me, "can coffee make my lip twitch", to="whatsapp:+14155238886", country=None))
    _, call = replies(platform_api, me, count=2)
    assert call.body["From"] == "whatsapp:+14155238886"
    assert "*Caffeine and other stimulants*" in call.body["Body"] and "**" not in call.body["Body"]
    assert numbered(call.body["Body"])


def test_sms_emergency_advice_is_one_whole_message_with_the_senders_country_number(assistant, platform_api):
    me = "+1555" + f"{uuid.uuid4().int % 10**7:07d}"
    send_twilio(assistant, twilio_params(me, "my husband's face is drooping and his arm went weak", country="US"))
    [call] = platform_api.wait_for(me)
    assert call.body["Body"] == convert(canonical(domain_response("utter_emergency", "US")), PLAIN)
    assert call.body["Body"].startswith("\U0001f6a8 Call 911 now.")


@pytest.mark.parametrize("attack", ["forged", "other url", "altered", "unsigned"])
def test_twilio_refuses_forged_and_altered_requests(assistant, platform_api, attack):
    me = phone()
    params = twilio_params(me, "what causes lip twitching")
    headers = {
        "forged": twilio_headers(params, token="not-the-auth-token"),
        "other url": twilio_headers(params, url="https://attacker.example.com/webhooks/twilio/webhook"),
        "altered": twilio_headers(params),
        "unsigned": {"Content-Type": "application/x-www-form-urlencoded"},
    }[attack]
    if attack == "altered":
        params = {**params, "Body": "something else"}
    assert send_twilio(assistant, params, headers).status_code == 403
    assert_nothing_sent(platform_api, me)


# --- when the platform's API fails ----------------------------------------------------------------

def test_a_reply_the_platform_fails_to_take_is_sent_again(assistant, platform_api):
    me = phone()
    platform_api.fail_next(me, 503)  # Twilio has a bad moment
    send_twilio(assistant, twilio_params(me, "my face is drooping on one side"))
    failed, delivered = platform_api.wait_for(me, count=2)
    assert failed.body == delivered.body and delivered.body["Body"].startswith("\U0001f6a8 Call 999 now.")


def test_telegram_sends_plain_text_when_it_refuses_the_formatting(assistant, platform_api):
    chat = next(_numbers)
    platform_api.fail_next(str(chat), 400)  # "Bad Request: can't parse entities"
    send_telegram(assistant, telegram_update(chat, "/start"))
    refused, sent = platform_api.wait_for(str(chat), count=2)
    assert refused.body["parse_mode"] == "HTML" and "parse_mode" not in sent.body
    assert "Lip Twitch Guide" in sent.body["text"] and "<b>" not in sent.body["text"]
