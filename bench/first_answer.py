"""Time from `make run` to the first answer over REST, then Ctrl-C: does everything stop?

    .venv/bin/python bench/first_answer.py            # with the model already trained
Prints the seconds to the first answer and whether both servers stopped on SIGINT.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import requests

REPO = Path(__file__).resolve().parent.parent
RASA_PORT, ACTION_PORT = 5005, 5055


def port_open(port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(0.5)
        return probe.connect_ex(("127.0.0.1", port)) == 0


def main() -> int:
    if port_open(RASA_PORT) or port_open(ACTION_PORT):
        print("ports 5005/5055 are in use: stop the running assistant first")
        return 1
    started = time.monotonic()
    run = subprocess.Popen(["make", "run"], cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           text=True, start_new_session=True)
    answer = None
    while time.monotonic() - started < 600 and run.poll() is None:
        try:
            answer = requests.post(f"http://127.0.0.1:{RASA_PORT}/webhooks/rest/webhook",
                                   json={"sender": "bench", "message": "can coffee make my lip twitch?"},
                                   timeout=10).json()
            if answer:
                break
        except requests.RequestException:
            pass
        time.sleep(0.25)
    first_answer = time.monotonic() - started
    os.killpg(run.pid, signal.SIGINT)  # what Ctrl-C does in a terminal
    output, _ = run.communicate(timeout=60)
    time.sleep(1)
    stopped = not port_open(RASA_PORT) and not port_open(ACTION_PORT)
    print(f"first answer after {first_answer:.1f} s: {bool(answer)}")
    print(f"both servers stopped after Ctrl-C: {stopped}")
    printed = [line for line in output.splitlines() if line.startswith(("==>", "    "))]
    print("printed by make run:\n" + "\n".join(printed))
    return 0 if answer and stopped else 1


if __name__ == "__main__":
    sys.exit(main())
