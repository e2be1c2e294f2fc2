#!/usr/bin/env bash
# Audits the Python packages installed in the project's virtual environment for known vulnerabilities
# with pip-audit, and fails on every finding that is neither fixed nor explained in deploy/AUDIT.md.
#
#   scripts/audit.sh [venv]          (default .venv)
#   AUDIT_SERVICE=osv scripts/audit.sh   (the feed: pypi, the default, or osv)
#
# Exit status: 0 nothing unexplained; 1 unexplained findings; 2 set-up error (no venv, malformed
# deploy/AUDIT.md); 3 the vulnerability feed could not be reached or did not answer for every package,
# so nothing (or not everything) was audited. 3 is a failure, never a pass.
set -euo pipefail
cd "$(dirname "$0")/.."

venv=${1:-.venv}
service=${AUDIT_SERVICE:-pypi}
explanations=deploy/AUDIT.md
tool=build/pip-audit            # pip-audit's own environment (build/ is not committed)
report=$tool/report.json

# pip-audit lives in its own environment: it needs CacheControl>=0.13 and packaging>=23, which Rasa 3.6's
# pins (CacheControl 0.12, packaging 20.9) forbid. Every package it pulls in is pinned here.
pins=(
  pip-audit==2.10.1
  boolean.py==5.0 CacheControl==0.14.4 certifi==2026.10.18 charset-normalizer==3.5.2
  cyclonedx-python-lib==11.12.0 defusedxml==0.7.1 filelock==4.1.0 idna==3.20
  license-expression==30.4.4 markdown-it-py==4.3.0 mdurl==0.1.2 msgpack==1.2.4
  packageurl-python==0.17.6 packaging==26.3 pip-requirements-parser==32.0.1 pip-api==0.0.35
  platformdirs==4.12.4 py-serializable==2.1.0 Pygments==2.21.0 pyparsing==3.3.3 requests==2.34.2
  rich==15.0.0 sortedcontainers==2.4.0 tomli==2.5.0 tomli-w==1.2.0 typing-extensions==4.16.0
  urllib3==2.8.0
)

fail() { echo "error: $2" >&2; exit "$1"; }

[ -x "$venv/bin/python" ] || fail 2 "no virtual environment at $venv: run 'make install' first (or pass the venv to audit)."
case "$service" in pypi|osv) ;; *) fail 2 "AUDIT_SERVICE=$service: use pypi or osv." ;; esac
[ -f "$explanations" ] || fail 2 "$explanations is missing: it lists the explained findings (an empty table is fine)."

# The project venv's own interpreter builds the tool's venv: it is the one Python 3.10 we know exists.
if [ ! -x "$tool/bin/pip-audit" ] || [ "$(cat "$tool/.pins" 2>/dev/null)" != "${pins[*]}" ]; then
  echo "==> Installing pip-audit into $tool"
  base_python=$("$venv/bin/python" -c 'import os, sys; print(os.path.join(sys.base_prefix, "bin", "python%d.%d" % sys.version_info[:2]))')
  rm -rf "$tool"
  "$base_python" -m venv "$tool"
  "$tool/bin/python" -m pip install -qq --disable-pip-version-check "${pins[@]}" \
    || fail 2 "could not install pip-audit into $tool (pip's message is above)."
  echo "${pins[*]}" > "$tool/.pins"
fi

# The IDs of deploy/AUDIT.md's table rows ("| ID | package version | fixed in | reason |"); a row with no
# reason is not an explanation.
ignores=$("$tool/bin/python" - "$explanations" <<'PY'
import re, sys
path = sys.argv[1]
row = re.compile(r"^\|\s*((?:PYSEC|GHSA|CVE)-[A-Za-z0-9-]+)\s*\|(.*)\|\s*$")
for number, line in enumerate(open(path, encoding="utf-8"), start=1):
    match = row.match(line)
    if not match:
        continue
    cells = [cell.strip() for cell in match.group(2).split("|")]
    if len(cells) != 3 or not cells[-1]:
        sys.exit(f"error: {path}:{number}: {match.group(1)} needs four cells (ID | package version | fixed in | reason) and a reason")
    print(match.group(1))
PY
) || exit 2
ignore_args=()
for id in $ignores; do ignore_args+=(--ignore-vuln "$id"); done

# A look at the feed first: a network that cannot reach it must say so, not look like a clean audit.
"$tool/bin/python" - "$service" <<'PY' || exit 3
import sys
import requests
service = sys.argv[1]
if service == "pypi":
    # The per-release JSON that pip-audit asks for every package (a release that surely exists).
    url, expected = "https://pypi.org/pypi/pip/24.0/json", "vulnerabilities"
    call = lambda: requests.get(url, timeout=10)
else:
    url, expected = "https://api.osv.dev/v1/query", "vulns"
    call = lambda: requests.post(url, json={"package": {"name": "pip", "ecosystem": "PyPI"}, "version": "24.0"}, timeout=10)
try:
    response = call()
    answer = f"HTTP {response.status_code}"
    usable = response.ok and expected in response.json()
except (requests.RequestException, ValueError) as error:
    answer, usable = f"{type(error).__name__}: {error}", False
if not usable:
    sys.exit(
        f"error: the {service} vulnerability feed cannot be used from here ({url} answered {answer}).\n"
        "  NOTHING WAS AUDITED: this is a failure, not a pass. Run where that address is reachable, or try\n"
        "  the other feed: AUDIT_SERVICE=" + ("osv" if service == "pypi" else "pypi") + " scripts/audit.sh"
    )
PY

site_packages=$("$venv/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
echo "==> Auditing the packages in $venv with pip-audit ($service feed, $(( ${#ignore_args[@]} / 2 )) explained IDs from $explanations)"
rm -f "$report"
set +e
"$tool/bin/pip-audit" --path "$site_packages" --vulnerability-service "$service" --format json \
  --output "$report" --progress-spinner off --timeout 15 --cache-dir "$tool/cache" \
  ${ignore_args[@]+"${ignore_args[@]}"} 2> "$tool/pip-audit.log"
audit_status=$?
set -e

# pip-audit exits 0 when a package could not be looked up ("skipped"): here that is a failure too.
"$tool/bin/python" - "$report" "$audit_status" "$tool/pip-audit.log" "$explanations" <<'PY'
import json, re, sys, textwrap
path, audit_status, log_path, explanations = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
log = open(log_path, encoding="utf-8", errors="replace").read()
try:
    dependencies = json.load(open(path, encoding="utf-8"))["dependencies"]
except (OSError, ValueError, KeyError):
    print(log[-3000:], file=sys.stderr)
    print(f"error: pip-audit stopped (exit {audit_status}) without a report (its messages are above). NOTHING WAS AUDITED.", file=sys.stderr)
    sys.exit(3)
skipped = [d for d in dependencies if "skip_reason" in d]
findings = [(d, v) for d in dependencies for v in d.get("vulns", [])]
explained = re.search(r"ignored (\d+)|(\d+) ignored", log)
explained_count = int(next(g for g in explained.groups() if g)) if explained else 0
print(f"{len(dependencies) - len(skipped)} of {len(dependencies)} packages audited: "
      f"{explained_count} finding(s) explained in {explanations}, "
      f"{len(findings)} unexplained in {len({d['name'] for d, _ in findings})} package(s).")
for dependency, vuln in findings:
    aliases = ", ".join(vuln.get("aliases", []))
    fixed = ", ".join(vuln.get("fix_versions", [])) or "no fixed release"
    print(f"\n  {dependency['name']} {dependency['version']}  {vuln['id']}" + (f" ({aliases})" if aliases else ""))
    print(f"    fixed in: {fixed}")
    print(textwrap.indent(textwrap.shorten(vuln.get("description", ""), 300), "    "))
if findings:
    print(f"\nEach one needs a fix (a newer pin in constraints.txt that Rasa 3.6.21 allows) or a row in {explanations}"
          "\nsaying why this project cannot reach the vulnerable code.")
if skipped:
    print(f"\nerror: {len(skipped)} package(s) could not be looked up, so they were NOT audited, e.g.:", file=sys.stderr)
    for dependency in skipped[:5]:
        print(f"  {dependency['name']}: {dependency['skip_reason']}", file=sys.stderr)
    sys.exit(3)
sys.exit(1 if findings or audit_status else 0)
PY
