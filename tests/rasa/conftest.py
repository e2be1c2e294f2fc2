"""The tests here load the trained model in this process, as the Rasa server does: with the project's patches
applied first (`python -m liptwitch.rasa_server` applies them for a server; a model refuses to load without)."""

from liptwitch.rasa_server.patches import apply_all

apply_all()
