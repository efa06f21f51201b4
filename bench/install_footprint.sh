#!/usr/bin/env bash
# What `pip install` of this checkout costs, in a fresh virtualenv: packages, MB of
# site-packages and seconds. Run it twice: the first run fills pip's cache, the second one is
# the "warm cache" number (downloads excluded, wheel build and unpacking included).
#   bash bench/install_footprint.sh [EXTRA]      # e.g. voyage, test; default: none
set -euo pipefail
extra="${1:-}"
src="$(cd "$(dirname "$0")/.." && pwd)"
venv="$(mktemp -d)/venv"
python3 -m venv "$venv"
"$venv/bin/pip" install -q --upgrade pip >/dev/null 2>&1 || true
target="$src"
[ -n "$extra" ] && target="$src[$extra]"
t0=$(date +%s.%N)
"$venv/bin/pip" install -q "$target"
t1=$(date +%s.%N)
site="$("$venv/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')"
# Installed distributions other than pip itself and docsearch.
count=$("$venv/bin/pip" list --format=freeze 2>/dev/null | grep -viE '^(pip|docsearch)==' | wc -l)
mb=$(du -sm "$site" | cut -f1)
printf 'extra=%s packages=%s site_packages_mb=%s install_s=%.1f\n' "${extra:-none}" "$count" "$mb" \
    "$(echo "$t1 - $t0" | bc)"
"$venv/bin/pip" list --format=freeze 2>/dev/null | grep -viE '^(pip|docsearch)==' | cut -d= -f1 | tr '\n' ' '
echo
rm -rf "$(dirname "$venv")"
