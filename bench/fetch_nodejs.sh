#!/usr/bin/env bash
# Fetch the Node.js API docs in markdown from Debian's nodejs-doc package (no root install):
# bench/data/nodejs/api/*.md
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
out="$here/data/nodejs"
mkdir -p "$out/deb" "$out/api"
cd "$out/deb"
ls nodejs-doc_*.deb >/dev/null 2>&1 || apt-get download nodejs-doc
dpkg -x nodejs-doc_*.deb x
for f in x/usr/share/doc/nodejs/api/*.md.gz; do
  gunzip -c "$f" > "$out/api/$(basename "$f" .gz)"
done
echo "$(ls "$out/api" | wc -l) files in $out/api"
