#!/usr/bin/env bash
# Installs the npm packages of tests/integration/node (the real
# @segment/analytics-node client used by the integration tests).
# Idempotent: does nothing when node_modules matches package-lock.json.
# Exit codes: 0 ok, 3 node/npm missing, 75 npm registry unreachable, 1 other failure.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
dir="$root/tests/integration/node"
stamp="$dir/node_modules/.footfall-deps.sha256"

if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  # Debian's node is enough (>= 18). Install it when we can; else say what is missing.
  if command -v apt-get >/dev/null 2>&1 && [[ $(id -u) -eq 0 ]]; then
    export DEBIAN_FRONTEND=noninteractive
    if ! { apt-get update -qq && apt-get install -y -qq --no-install-recommends nodejs npm; }; then
      echo "install-node-deps: could not install nodejs/npm from the Debian archive" >&2
      exit 75
    fi
  else
    echo "install-node-deps: node and npm are required (scripts/install-deps.sh installs them)" >&2
    exit 3
  fi
fi

cd "$dir"
want="$(cat package.json package-lock.json 2>/dev/null | sha256sum | cut -d' ' -f1)"
if [[ -d node_modules && -f "$stamp" && "$(cat "$stamp")" == "$want" ]]; then
  echo "install-node-deps: up to date"
  exit 0
fi

log="$(mktemp)"
trap 'rm -f "$log"' EXIT
if [[ -f package-lock.json ]]; then
  cmd=(npm ci --no-audit --no-fund)
else
  # First install: write a lock file without registry URLs in it.
  cmd=(npm install --no-audit --no-fund --omit-lockfile-registry-resolved)
fi
if ! "${cmd[@]}" >"$log" 2>&1; then
  cat "$log" >&2
  if grep -Eqi 'ENOTFOUND|EAI_AGAIN|ECONNREFUSED|ECONNRESET|ETIMEDOUT|ENETUNREACH|network|socket hang up' "$log"; then
    echo "install-node-deps: npm registry unreachable" >&2
    exit 75
  fi
  exit 1
fi
tail -n 3 "$log"
echo "$want" >"$stamp"
echo "install-node-deps: installed into $dir/node_modules"
