# The project's entry points. `make run` and `make test` are the two commands of the README.
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
# Rasa's command line with the project's patches applied first (liptwitch/rasa_server/__main__.py).
RASA := $(VENV)/bin/python -m liptwitch.rasa_server
export PYTHON
# No telemetry calls out, no TensorFlow chatter, no SQLAlchemy 2.0 banner.
export RASA_TELEMETRY_ENABLED := false
export TF_CPP_MIN_LOG_LEVEL := 2
export SQLALCHEMY_SILENCE_UBER_WARNING := 1
export PYTHONDONTWRITEBYTECODE := 1

KNOWLEDGE_BASE := $(wildcard data/knowledge_base/*.yml)
SPACY_MODEL := build/spacy/en_liptwitch/meta.json
LOOKUPS := build/nlu/knowledge_base.yml
TRAINING_DATA := data/nlu data/rules data/stories $(LOOKUPS)
# The safety net (liptwitch/core/safety_net.py) is trained with the model, on a corpus generated from data/safety_net/.
TRAINING_INPUTS := config.yml domain.yml $(LOOKUPS) $(SPACY_MODEL) liptwitch/rasa_server/components.py \
                   liptwitch/core/safety_corpus.py liptwitch/core/safety_net.py $(wildcard data/safety_net/*.yml) \
                   $(shell find data/nlu data/rules data/stories -name '*.yml')
MODEL := models/lip-twitch-guide.tar.gz
WIDGET := web/node_modules/rasa-webchat/lib/index.js

help:  ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed -E 's/^([a-z-]+):.*## (.*)/\1\t\2/' | expand -t 18

.PHONY: help install browser cluster-packages train run run-platforms cluster test bench load-test audit retention forget \
        check-kb review lint clean

install: $(VENV)/.installed $(SPACY_MODEL) $(LOOKUPS) $(WIDGET)  ## the Python packages, the spaCy pipeline, the NLU lookup table and the chat widget

# The chat widget, from npm, exactly as the lockfile says; served locally by web/serve.py.
$(WIDGET): web/package.json web/package-lock.json
	@echo "==> Installing the chat widget (npm ci in web/)"
	@npm ci --prefix web --no-audit --no-fund --loglevel=error
	@touch $@

browser:  ## Chromium for the browser tests (Debian)
	@scripts/setup-browser.sh

# PostgreSQL, Redis and nginx from Debian, for the cluster and its tests.
cluster-packages:  ## PostgreSQL, Redis and nginx for the cluster (Debian)
	@scripts/setup-cluster-packages.sh

$(VENV)/.installed: requirements.txt constraints.txt scripts/setup-venv.sh
	@scripts/setup-venv.sh $(VENV)
	@touch $@

$(SPACY_MODEL): liptwitch/tools/spacy_pipeline.py $(VENV)/.installed
	@echo "==> Building the project's spaCy pipeline"
	@$(PY) -m liptwitch.tools.spacy_pipeline build/spacy/en_liptwitch

$(LOOKUPS): $(KNOWLEDGE_BASE) liptwitch/tools/nlu_export.py liptwitch/core/knowledge_base.py $(VENV)/.installed
	@echo "==> Checking the knowledge base and writing the NLU lookup table"
	@$(PY) -m liptwitch.tools.nlu_export $@

# Trains only when the data, domain or configuration changed (Make compares the files' times;
# Rasa itself then reuses whatever parts of the old model still fit).
$(MODEL): $(TRAINING_INPUTS)
	@echo "==> Training the assistant (a minute or two)"
	@$(RASA) train --data $(TRAINING_DATA) --config config.yml --domain domain.yml \
	  --out models --fixed-model-name lip-twitch-guide
	@touch $@

train: install $(MODEL)  ## train the assistant when its data changed

run: train  ## start the assistant and the chat page on this machine (prints the addresses)
	@VENV=$(VENV) MODEL=$(MODEL) scripts/run.sh

# The assistant on the web and on each messaging platform whose environment variables are set
# (docs/channels.md). The variables can also be kept in $(PLATFORM_ENV), which git ignores.
PLATFORM_ENV ?= deploy/platforms.env
run-platforms: train  ## the same, with each messaging platform whose variables are set
	@set -a; if [ -f "$(PLATFORM_ENV)" ]; then echo "==> Reading $(PLATFORM_ENV)"; . "./$(PLATFORM_ENV)"; fi; set +a; \
	  $(PY) -m liptwitch.tools.channel_credentials deploy/credentials.yml build/credentials.yml && \
	  VENV=$(VENV) MODEL=$(MODEL) CREDENTIALS=build/credentials.yml scripts/run.sh

# The production-like cluster (docs/operations.md): PostgreSQL, Redis, two action servers, two Rasa
# servers and nginx on 127.0.0.1; the chat page on http://localhost:$(PORT)/. ENABLE_API=1 turns on Rasa's
# HTTP API (JWT-protected).
PORT ?= 8000
cluster: train cluster-packages  ## the production-like cluster on 127.0.0.1 (PORT=8000)
	@PORT=$(PORT) $(PY) -m liptwitch.operations.cluster

test: train browser cluster-packages  ## every test: unit, actions, Rasa, end-to-end, security, cluster
	@$(PY) -m pytest

# Latency, throughput, cold start, training time and memory, beside Rasa's default pipeline and a bare
# Sanic endpoint (bench/performance.py): about 20 minutes; results in bench/RESULTS.md and bench/plots/.
# Then a 1,000-turn conversation and 10,000 conversations (bench/long_run.py): about 25 minutes more.
bench: train  ## latency, throughput, memory and the long-run benchmark (about 45 minutes)
	@$(PY) bench/performance.py
	@$(PY) bench/long_run.py --turns 1000 --conversations 10000 --json bench/long_run.json

# The cluster under load, through nginx, with two Rasa servers and then one (bench/load_test.py): about 5
# minutes; results in bench/RESULTS.md.
load-test: train cluster-packages  ## the cluster under load (about 5 minutes)
	@$(PY) bench/load_test.py

# Conversations nobody wrote to for RETENTION (default: $$LIPTWITCH_RETENTION, else 30d); DRY_RUN=1 only counts.
# For the cluster: RETENTION_ENDPOINTS=deploy/endpoints.yml, with the cluster's variables set (docs/operations.md).
RETENTION_ENDPOINTS ?= endpoints.yml
retention: $(VENV)/.installed  ## delete conversations silent for longer than RETENTION (DRY_RUN=1 counts)
	@$(PY) -m liptwitch.operations.retention --endpoints $(RETENTION_ENDPOINTS) $(if $(RETENTION),--older-than $(RETENTION)) \
	  $(if $(DRY_RUN),--dry-run)

# One person's conversation, on request: make forget ID='whatsapp:+447700900123' [DRY_RUN=1]
forget: $(VENV)/.installed  ## delete one person's conversation: ID=<conversation id>
	@test -n "$(ID)" || { echo "usage: make forget ID=<conversation id> [DRY_RUN=1]" >&2; exit 2; }
	@$(PY) -m liptwitch.operations.retention --endpoints $(RETENTION_ENDPOINTS) --forget '$(ID)' $(if $(DRY_RUN),--dry-run)

# Known vulnerabilities in the installed Python packages (pip-audit); the explained ones are in deploy/AUDIT.md.
audit: $(VENV)/.installed  ## known vulnerabilities in the installed packages
	@scripts/audit.sh $(VENV)

check-kb: $(VENV)/.installed  ## check the knowledge base's files and its review backlog (TODAY=YYYY-MM-DD)
	@$(PY) -m liptwitch.tools.nlu_export /dev/null
	@$(PY) -m liptwitch.tools.content_review check $(if $(TODAY),--today $(TODAY))

# A clinician's sign-off of one item's current text: make review ITEM=stress BY="Dr A. Name" ROLE="GP" [NEXT=2027-12-01]
review: $(VENV)/.installed  ## record a reviewer's sign-off: ITEM=<item id> BY="<name>" ROLE="<role>"
	@test -n "$(ITEM)" && test -n "$(BY)" && test -n "$(ROLE)" || \
	  { echo 'usage: make review ITEM=<item id> BY="<name>" ROLE="<role>" [NEXT=YYYY-MM-DD]' >&2; exit 2; }
	@$(PY) -m liptwitch.tools.content_review sign '$(ITEM)' --by '$(BY)' --role '$(ROLE)' $(if $(NEXT),--next $(NEXT))

lint: $(VENV)/.installed  ## ruff over the code and tests
	@$(VENV)/bin/ruff check liptwitch actions tests web bench

clean:  ## remove what the build made (models, build, logs, widget)
	rm -rf build models results logs .pytest_cache web/node_modules
