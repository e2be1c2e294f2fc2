#!/usr/bin/env bash
# Creates the virtual environment (if missing) with Python 3.10 and installs the pinned packages.
set -euo pipefail
venv=${1:-.venv}

if [ ! -x "$venv/bin/python" ]; then
  python=$(scripts/find-python.sh)
  echo "==> Creating the virtual environment $venv with $python"
  "$python" -m venv "$venv"
fi
version=$("$venv/bin/python" -c 'import sys; print("%d.%d" % sys.version_info[:2])')
if [ "$version" != "3.10" ]; then
  echo "error: $venv uses Python $version, but Rasa 3.6 needs 3.10. Remove $venv and run again." >&2
  exit 1
fi

echo "==> Installing the pinned packages into $venv (the first time takes a few minutes)"
"$venv/bin/python" -m pip install --disable-pip-version-check --progress-bar on --upgrade "pip==26.3"
"$venv/bin/python" -m pip install --disable-pip-version-check --progress-bar on \
  -r requirements.txt -c constraints.txt
