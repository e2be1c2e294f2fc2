"""The parts Rasa loads are tested as the server runs them: with the project's patches applied
(`python -m liptwitch.rasa_server` applies them at start; liptwitch/rasa_server/patches/__init__.py)."""

from liptwitch.rasa_server.patches import apply_all

apply_all()
