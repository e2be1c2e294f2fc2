#!/usr/bin/env bash
# Starts the action server and the Rasa server, says where to talk to the assistant, and stops
# both on Ctrl-C. Called by `make run` once the model is trained.
set -uo pipefail
venv=${VENV:-.venv}
model=${MODEL:-models/lip-twitch-guide.tar.gz}
rasa_port=${RASA_PORT:-5005}
action_port=${ACTION_PORT:-5055}
web_port=${WEB_PORT:-8080}
credentials=${CREDENTIALS:-credentials.yml}  # `make run-platforms` adds the messaging platforms
# The servers listen on this machine only, unless told otherwise (LIPTWITCH_INTERFACE=0.0.0.0 behind a proxy).
interface=$("$venv/bin/python" -c 'from liptwitch import settings; print(settings.INTERFACE.read())')
mkdir -p logs build

# The action server runs actions only for the Rasa server: a token made for this run, which Rasa sends in a
# header (the endpoints file below adds it to endpoints.yml) and the action server checks (actions/server.py).
export LIPTWITCH_ACTION_TOKEN=${LIPTWITCH_ACTION_TOKEN:-$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')}
endpoints=build/endpoints.run.yml
"$venv/bin/python" - endpoints.yml "$endpoints" <<'PY'
import sys, yaml
endpoints = yaml.safe_load(open(sys.argv[1]))
endpoints["action_endpoint"]["headers"] = {"X-Action-Token": "${LIPTWITCH_ACTION_TOKEN}"}  # Rasa fills it in
yaml.safe_dump(endpoints, open(sys.argv[2], "w"), sort_keys=False)
PY

pids=()
stop() {
  trap - INT TERM EXIT
  if [ ${#pids[@]} -gt 0 ]; then
    echo; echo "==> Stopping the assistant"
    kill "${pids[@]}" 2>/dev/null
    wait "${pids[@]}" 2>/dev/null
  fi
  exit 0
}
trap stop INT TERM EXIT

for port in "$rasa_port" "$action_port" "$web_port"; do
  if (echo >"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
    echo "error: port $port is already in use (another 'make run'?). Stop it, or set RASA_PORT/ACTION_PORT." >&2
    exit 1
  fi
done

echo "==> Starting the action server on port $action_port (log: logs/actions.log)"
SANIC_HOST=$interface "$venv/bin/rasa" run actions --actions actions --port "$action_port" >logs/actions.log 2>&1 &
pids+=($!)
echo "==> Starting the Rasa server on port $rasa_port (log: logs/rasa.log)"
# The pages that may talk to Rasa (liptwitch/settings.py: LIPTWITCH_CORS_ORIGINS, else the chat page). The chat
# socket checks them itself (liptwitch/channels/web.py), REST by --cors.
read -ra cors_origins <<<"$("$venv/bin/python" -c "from liptwitch import settings; print(' '.join(settings.cors_origins($web_port)))")"
export LIPTWITCH_CORS_ORIGINS=$(IFS=,; echo "${cors_origins[*]}")
"$venv/bin/python" -m liptwitch.rasa_server run --model "$model" --interface "$interface" --port "$rasa_port" --credentials "$credentials" \
  --endpoints "$endpoints" --cors "${cors_origins[@]}" >logs/rasa.log 2>&1 &
pids+=($!)
echo "==> Starting the chat page on port $web_port (log: logs/web.log)"
"$venv/bin/python" web/serve.py --host "$interface" --port "$web_port" --socket-url "http://localhost:$rasa_port" \
  >logs/web.log 2>&1 &
pids+=($!)

echo -n "==> Waiting for the assistant to be ready"
for _ in $(seq 1 180); do
  for pid in "${pids[@]}"; do
    if ! kill -0 "$pid" 2>/dev/null; then
      echo; echo "error: a server stopped while starting; the end of its log:" >&2
      tail -n 20 logs/actions.log logs/rasa.log logs/web.log >&2
      exit 1
    fi
  done
  if curl -sf "http://127.0.0.1:$rasa_port/" >/dev/null && curl -sf "http://127.0.0.1:$action_port/health" >/dev/null \
     && curl -sf "http://127.0.0.1:$web_port/" >/dev/null; then
    break
  fi
  echo -n "."; sleep 1
done
echo
cat <<MSG
==> The Lip Twitch Guide is running.
    Chat page: http://localhost:$web_port/
    REST:      curl -s -XPOST http://localhost:$rasa_port/webhooks/rest/webhook \\
                 -H 'Content-Type: application/json' -d '{"sender": "me", "message": "can coffee make my lip twitch?"}'
    socket.io: http://localhost:$rasa_port/socket.io/ (what the chat widget talks to)
    Press Ctrl-C to stop.
MSG
wait -n "${pids[@]}"
echo "error: a server stopped; see logs/actions.log, logs/rasa.log and logs/web.log" >&2
