"""The one place where the project's settings are read: every environment variable, with its default, and every
path it builds or reads beside its package.

A setting is read when it is used (`HANDOFF_URL.read()`), not when this module is imported, so a test or a
server that sets the environment later is seen. Any module may import this one; it imports nothing of the
project's. scripts/run.sh, the Makefile and deploy/ set these variables; `docs/operations.md` lists them for
whoever runs the service (tests/test_settings.py checks that the list, the code and the scripts agree).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

# --- paths ----------------------------------------------------------------------------------------------------

REPO = Path(__file__).resolve().parent.parent
KNOWLEDGE_BASE_DIRECTORY = REPO / "data" / "knowledge_base"
SEEDS_DIRECTORY = REPO.parent / "shared" / "seeds"  # the source articles (sources.yml names files relative to it)
SAFETY_NET_DIRECTORY = REPO / "data" / "safety_net"  # the lexicons and templates of the safety net's corpus
BUILD = REPO / "build"
SPACY_PIPELINE = BUILD / "spacy" / "en_liptwitch"  # the project's spaCy pipeline (liptwitch/tools/spacy_pipeline.py)
COMMON_WORDS_FILE = "common_words.txt"  # in a spaCy pipeline's folder: words never taken for typos
NLU_LOOKUPS = BUILD / "nlu" / "knowledge_base.yml"  # the knowledge base's synonyms as NLU data
WEB_SESSION_KEY_FILE = BUILD / "web-session.key"  # signs the chat page's session tokens without LIPTWITCH_WEB_SECRET


# --- environment variables --------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Setting:
    name: str
    default: str
    meaning: str

    def read(self, environment: Mapping[str, str] | None = None) -> str:
        """The variable's value, or its default when it is unset or empty (surrounding spaces ignored)."""
        value = (os.environ if environment is None else environment).get(self.name, "").strip()
        return value or self.default

    def is_set(self, environment: Mapping[str, str] | None = None) -> bool:
        return bool((os.environ if environment is None else environment).get(self.name, "").strip())


COUNTRY = Setting("LIPTWITCH_COUNTRY", "",
                  "ISO country code whose emergency numbers replies give when the channel does not say")
CORS_ORIGINS = Setting("LIPTWITCH_CORS_ORIGINS", "",
                       "comma-separated web origins allowed to talk to Rasa; empty: the chat page's own address")
WEB_SECRET = Setting("LIPTWITCH_WEB_SECRET", "",
                     "key (32+ characters) that signs the chat page's session tokens; empty: build/web-session.key")
REST_TOKEN = Setting("LIPTWITCH_REST_TOKEN", "",
                     "bearer token the REST channel asks for; empty: REST open (make run) or off (platforms)")
ACTION_URL = Setting("LIPTWITCH_ACTION_URL", "http://localhost:5055/webhook", "where Rasa calls the action server")
ACTION_TOKEN = Setting("LIPTWITCH_ACTION_TOKEN", "",
                       "token the action server asks of Rasa's calls; empty: any caller (loopback only)")
HANDOFF_URL = Setting("LIPTWITCH_HANDOFF_URL", "", "webhook that receives hand-off records; empty: none sent")
HANDOFF_TOKEN = Setting("LIPTWITCH_HANDOFF_TOKEN", "", "bearer token sent with hand-off records")
PUBLIC_URL = Setting("LIPTWITCH_PUBLIC_URL", "",
                     "the service's public https address, which platform webhooks are registered at")
JWT_SECRET = Setting("LIPTWITCH_JWT_SECRET", "", "secret of the JWTs Rasa's HTTP API asks for when it is on")
RETENTION = Setting("LIPTWITCH_RETENTION", "30d", "how long a silent conversation is kept (e.g. 30d, 12h)")
RATE_LIMIT = Setting("LIPTWITCH_RATE_LIMIT", "10r/s", "nginx's request rate per client address in the cluster")
INTERFACE = Setting("LIPTWITCH_INTERFACE", "127.0.0.1", "the address make run's servers listen on")

# The cluster's (liptwitch/operations/cluster.py): its public port, Rasa's HTTP API, and the secrets it keeps in
# build/cluster/secrets.env unless the environment gives them.
CLUSTER_PORT = Setting("PORT", "8000", "nginx's public port in `make cluster`")
ENABLE_API = Setting("ENABLE_API", "", "1 or true: Rasa's HTTP API on in `make cluster`, JWT-protected")
POSTGRES_PASSWORD = Setting("POSTGRES_PASSWORD", "", "the cluster's PostgreSQL password")
REDIS_PASSWORD = Setting("REDIS_PASSWORD", "", "the cluster's Redis password")
CLUSTER_SECRETS = (POSTGRES_PASSWORD, REDIS_PASSWORD, ACTION_TOKEN, REST_TOKEN, WEB_SECRET, JWT_SECRET)

# The messaging platforms' API addresses (the tests point them at a local fake platform). Their tokens and
# secrets are read by Rasa itself from the credentials file (deploy/credentials.yml names them).
TELEGRAM_API_URL = Setting("TELEGRAM_API_URL", "https://api.telegram.org", "Telegram's Bot API")
SLACK_API_URL = Setting("SLACK_API_URL", "https://slack.com/api/", "Slack's Web API")
MESSENGER_API_URL = Setting("MESSENGER_API_URL", "https://graph.facebook.com/v19.0", "Messenger's Graph API")
TWILIO_API_URL = Setting("TWILIO_API_URL", "https://api.twilio.com", "Twilio's REST API")

ALL = (COUNTRY, CORS_ORIGINS, WEB_SECRET, REST_TOKEN, ACTION_URL, ACTION_TOKEN, HANDOFF_URL, HANDOFF_TOKEN,
       PUBLIC_URL, JWT_SECRET, RETENTION, RATE_LIMIT, INTERFACE, CLUSTER_PORT, ENABLE_API, POSTGRES_PASSWORD,
       REDIS_PASSWORD, TELEGRAM_API_URL, SLACK_API_URL, MESSENGER_API_URL, TWILIO_API_URL)


def cors_origins(chat_page_port: int | None = None, environment: Mapping[str, str] | None = None) -> tuple[str, ...]:
    """The browsers' origins allowed to talk to Rasa: LIPTWITCH_CORS_ORIGINS (commas or spaces between them), else
    the chat page's own address on `chat_page_port` (both spellings of the loopback), else none."""
    configured = tuple(origin for origin in CORS_ORIGINS.read(environment).replace(",", " ").split() if origin)
    if configured:
        return configured
    if chat_page_port is None:
        return ()
    return (f"http://localhost:{chat_page_port}", f"http://127.0.0.1:{chat_page_port}")
