"""Rasa's command line with the project's patches applied first: `python -m liptwitch.rasa_server run ...`.

This is the one place the patches are applied for a server (liptwitch/rasa_server/patches/__init__.py says which,
in what order, and why); every command (`run`, `train`, `test`, `shell`) goes through it.
"""

from __future__ import annotations

import sys

from liptwitch.rasa_server.patches import apply_all


def main() -> None:
    apply_all()
    from rasa.__main__ import main as rasa_main

    sys.argv[0] = "rasa"
    rasa_main()


if __name__ == "__main__":
    main()
