"""The action server's actions, one module per action or form: thin adapters from rasa-sdk to liptwitch.core.

`rasa run actions --actions actions` imports this package and every module in it. The token check is added to
the action server here, once, before any action can run (actions/server.py).
"""

from actions.server import require_the_action_token

require_the_action_token()
