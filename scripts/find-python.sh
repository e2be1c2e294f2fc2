#!/usr/bin/env bash
# Prints the path of a Python 3.10 interpreter: Rasa 3.6 runs on Python 3.10 only.
# Looks at $PYTHON first, then python3.10 on the PATH, then pyenv's versions.
set -u

is_310() { [ -x "$1" ] && [ "$("$1" -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null)" = "3.10" ]; }

if [ -n "${PYTHON:-}" ]; then
  candidate=$(command -v "$PYTHON" || true)
  if [ -n "$candidate" ] && is_310 "$candidate"; then echo "$candidate"; exit 0; fi
  echo "error: PYTHON=$PYTHON is not a Python 3.10 interpreter; Rasa 3.6 needs Python 3.10." >&2
  exit 1
fi

candidates=()
for name in python3.10 python3 python; do
  path=$(command -v "$name" 2>/dev/null) && candidates+=("$path")
done
pyenv_root=$( (command -v pyenv >/dev/null && pyenv root) 2>/dev/null || echo "${PYENV_ROOT:-$HOME/.pyenv}")
for path in $(ls -d "$pyenv_root"/versions/3.10*/bin/python3.10 2>/dev/null | sort -V -r); do
  candidates+=("$path")
done

for candidate in "${candidates[@]}"; do
  if is_310 "$candidate"; then echo "$candidate"; exit 0; fi
done

cat >&2 <<'MSG'
error: no Python 3.10 found. Rasa 3.6 runs on Python 3.10 only (not 3.11 or later).
  Install one, then run the command again:
    - with pyenv:   pyenv install 3.10.13
    - on Debian/Ubuntu (where packaged): apt-get install python3.10 python3.10-venv
  or point to one you already have:  make run PYTHON=/path/to/python3.10
MSG
exit 1
