"""The floor: a bare Sanic endpoint shaped like Rasa's REST channel that returns a fixed reply.

    python bench/floor_server.py PORT

Same Sanic as Rasa's, one process, no access log: what any HTTP turn costs on this machine.
"""

from __future__ import annotations

import sys

from sanic import Sanic, response
from sanic.request import Request

app = Sanic("floor")
REPLY = "Lip twitching is usually harmless and often goes away by itself."


@app.get("/")
async def health(_: Request) -> response.HTTPResponse:
    return response.text("ok")


@app.post("/webhooks/rest/webhook")
async def webhook(request: Request) -> response.HTTPResponse:
    return response.json([{"recipient_id": (request.json or {}).get("sender"), "text": REPLY}])


if __name__ == "__main__":
    app.run(host="127.0.0.1", port=int(sys.argv[1]), access_log=False, debug=False)
