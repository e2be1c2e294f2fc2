"""Serves the chat page on http://localhost:8080/ from local files only (nothing from the internet).

    python web/serve.py [--port 8080] [--host 127.0.0.1] [--socket-url http://localhost:5005] [--country GB]

/                          the landing page (web/index.html)
/static/...                its style sheet and script
/vendor/rasa-webchat.js    the widget, from web/node_modules (installed by `make install` from the
                           lockfile), with its web-font @import removed: the page loads no font from Google
/config.js                 where the widget finds the Rasa server's socket.io channel (and the country)
/embed-example.html        another site that adds the chat with one <script> tag (static/embed.js)

`--export DIR` writes these files (all but /config.js) to DIR for nginx, in the cluster
(liptwitch/operations/cluster.py).
"""

from __future__ import annotations

import argparse
import json
import mimetypes
import re
import sys
from functools import lru_cache
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

WEB = Path(__file__).resolve().parent
WIDGET = WEB / "node_modules" / "rasa-webchat" / "lib" / "index.js"
_FONT_IMPORT = re.compile(r"@import url\(https://fonts\.googleapis\.com/[^)]*\);?")


@lru_cache(maxsize=1)
def widget_script() -> bytes:
    if not WIDGET.is_file():
        raise FileNotFoundError(f"{WIDGET} is missing: run `make install` (npm ci in web/)")
    return _FONT_IMPORT.sub("", WIDGET.read_text(encoding="utf-8")).encode("utf-8")


def security_headers(socket_url: str) -> dict[str, str]:
    origin = urlsplit(socket_url)
    websocket = f"{'wss' if origin.scheme == 'https' else 'ws'}://{origin.netloc}"
    return {
        # Scripts, styles, fonts and images from this server only; the widget talks to the Rasa server.
        "Content-Security-Policy": (f"default-src 'self'; connect-src 'self' {origin.scheme}://{origin.netloc} "
                                    f"{websocket}; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
                                    "frame-ancestors 'self'"),
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",
    }


def make_handler(socket_url: str, country: str | None) -> type[BaseHTTPRequestHandler]:
    config = f"window.LIPTWITCH_CONFIG = {json.dumps({'socketUrl': socket_url, 'country': country})};\n"
    headers = security_headers(socket_url)

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - the http.server API
            path = urlsplit(self.path).path
            if path in ("/", "/index.html"):
                self._send(WEB / "index.html")
            elif path == "/embed-example.html":
                self._send(WEB / "embed-example.html")
            elif path == "/config.js":
                self._send_bytes(config.encode("utf-8"), "text/javascript")
            elif path == "/vendor/rasa-webchat.js":
                self._send_bytes(widget_script(), "text/javascript", cache=True)
            elif path == "/favicon.ico":
                self._send(WEB / "static" / "favicon.svg")
            elif path.startswith("/static/") and "/.." not in path:
                self._send(WEB / path.lstrip("/"))
            else:
                self.send_error(HTTPStatus.NOT_FOUND)

        def _send(self, file: Path) -> None:
            if not file.is_file():
                self.send_error(HTTPStatus.NOT_FOUND)
                return
            kind = mimetypes.guess_type(file.name)[0] or "application/octet-stream"
            self._send_bytes(file.read_bytes(), kind)

        def _send_bytes(self, body: bytes, kind: str, cache: bool = False) -> None:
            self.send_response(HTTPStatus.OK)
            self.send_header("Content-Type", f"{kind}; charset=utf-8" if kind.startswith("text") else kind)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", "public, max-age=3600" if cache else "no-cache")
            for name, value in headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass  # no access log: it would say which pages a person visited

    return Handler


def export(directory: Path) -> None:
    """Writes the page's files to `directory`, for a web server such as nginx (liptwitch/operations/cluster.py), which
    then serves /config.js itself."""
    files = {"index.html": WEB / "index.html", "embed-example.html": WEB / "embed-example.html",
             "favicon.ico": WEB / "static" / "favicon.svg"}
    files.update({f"static/{path.relative_to(WEB / 'static')}": path
                  for path in (WEB / "static").rglob("*") if path.is_file()})
    for name, source in files.items():
        (directory / name).parent.mkdir(parents=True, exist_ok=True)
        (directory / name).write_bytes(source.read_bytes())
    (directory / "vendor").mkdir(parents=True, exist_ok=True)
    (directory / "vendor" / "rasa-webchat.js").write_bytes(widget_script())


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description="Serve the Lip Twitch Guide chat page.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8080)
    parser.add_argument("--socket-url", default="http://localhost:5005", help="the Rasa server, as the browser sees it")
    parser.add_argument("--country", default=None, help="ISO country code for the emergency numbers (optional)")
    parser.add_argument("--export", type=Path, metavar="DIR", help="write the page's files to DIR and stop")
    args = parser.parse_args(argv)
    if args.export:
        export(args.export)
        return 0
    widget_script()  # fail now, with a clear message, if the widget is not installed
    server = ThreadingHTTPServer((args.host, args.port), make_handler(args.socket_url, args.country))
    print(f"Chat page on http://{'localhost' if args.host == '127.0.0.1' else args.host}:{args.port}/", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
