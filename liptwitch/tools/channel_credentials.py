"""The channels Rasa runs with: deploy/credentials.yml without the platforms that are not set up.

Rasa fills `${NAME}` in a credentials file from the environment, and refuses to start when one is
unset. Here each platform whose variables are all set is kept as it is written (secrets stay in the
environment, never in a file) and any other is left out, with a line saying which variables it
needs. The web chat and REST channels need none and are always kept.

    python -m liptwitch.tools.channel_credentials deploy/credentials.yml build/credentials.yml
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import yaml

VARIABLE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
_TOP_LEVEL_KEY = re.compile(r"^([^\s#][^:]*):")
PUBLIC_URL = "LIPTWITCH_PUBLIC_URL"


@dataclass
class Section:
    key: str  # the channel: "rest", "liptwitch.channels.telegram.Telegram"...
    text: str  # as written, with the comments just above it

    @property
    def label(self) -> str:
        return self.key.rsplit(".", 1)[-1]

    @property
    def variables(self) -> list[str]:
        return list(dict.fromkeys(VARIABLE.findall(_without_comments(self.text))))

    @property
    def webhook_path(self) -> str:
        # The project's connectors are named after their class (liptwitch/channels/): /webhooks/<name>/webhook.
        return f"/webhooks/{self.label.lower()}/webhook"


def _without_comments(text: str) -> str:
    return "\n".join(line.split(" #")[0] for line in text.splitlines() if not line.lstrip().startswith("#"))


def sections(text: str) -> tuple[str, list[Section]]:
    """The file's preamble, and its channels in order, each with the comment lines just above it."""
    lines = text.splitlines(keepends=True)
    starts = [index for index, line in enumerate(lines) if _TOP_LEVEL_KEY.match(line)]
    # A channel owns the comment and blank lines right above its key.
    owned = []
    for start in starts:
        first = start
        while first > 0 and lines[first - 1].lstrip().startswith("#"):
            first -= 1
        owned.append(first)
    preamble_end = owned[0] if owned else len(lines)
    result = []
    for number, (first, start) in enumerate(zip(owned, starts, strict=True)):
        end = owned[number + 1] if number + 1 < len(owned) else len(lines)
        result.append(Section(_TOP_LEVEL_KEY.match(lines[start])[1].strip(), "".join(lines[first:end])))
    return "".join(lines[:preamble_end]), result


def select(text: str, environment: Mapping[str, str]) -> tuple[str, list[str]]:
    """The credentials to run with, and a line per platform saying whether it is on and why not."""
    preamble, channels = sections(text)
    kept, report = [preamble], []
    public_url = (environment.get(PUBLIC_URL) or "").rstrip("/")
    for channel in channels:
        missing = [name for name in channel.variables if not environment.get(name)]
        if not channel.variables:
            kept.append(channel.text)
        elif missing:
            report.append(f"{channel.label} is left out: set {', '.join(missing)} to turn it on "
                          f"(docs/channels.md).")
        else:
            kept.append(channel.text)
            where = f"{public_url or '<public URL>'}{channel.webhook_path}"
            report.append(f"{channel.label} is on: its webhook is {where}")
    return "".join(kept), report


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__.strip().splitlines()[-1].strip(), file=sys.stderr)
        return 2
    source, target = Path(argv[0]), Path(argv[1])
    text = source.read_text()
    try:
        parsed = yaml.safe_load(text)
    except yaml.YAMLError as error:
        print(f"error: {source} is not valid YAML: {error}", file=sys.stderr)
        return 1
    if not isinstance(parsed, dict):
        print(f"error: {source} must map each channel to its settings", file=sys.stderr)
        return 1
    selected, report = select(text, os.environ)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(selected)
    for line in report:
        print(f"==> {line}")
    if not any(" is on:" in line for line in report):
        print("==> No messaging platform is set up: the assistant runs on the web chat and REST only.")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
