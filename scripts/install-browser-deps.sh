#!/usr/bin/env bash
# Installs what the browser tests (tests/browser) and the SDK build (sdk/js) need:
#   - Debian's chromium (the tests drive /usr/bin/chromium with playwright-core);
#   - the npm devDependencies of sdk/js (esbuild, playwright-core, typescript) and of web/dash
#     (esbuild, uplot: the dashboard bundle), via `npm ci`.
# Idempotent: chromium is installed only when missing; `npm ci` runs only when node_modules is
# missing or stale (a stamp holds the sha256 of package.json + package-lock.json).
# Exit codes: 0 ok, 3 node/npm or apt missing, 75 a registry unreachable, 1 other failure.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
dir="$root/sdk/js"

SUDO=""
[[ $(id -u) -eq 0 ]] || SUDO="sudo"

apt_install() {
  if ! command -v apt-get >/dev/null 2>&1; then
    echo "install-browser-deps: apt-get not found; install $* by hand" >&2
    exit 3
  fi
  export DEBIAN_FRONTEND=noninteractive
  if ! { $SUDO apt-get update -qq && $SUDO apt-get install -y -qq --no-install-recommends "$@"; }; then
    echo "install-browser-deps: could not install $* from the Debian archive" >&2
    exit 75
  fi
}

# FF_NO_CHROMIUM=1: only the SDK build's npm modules (what `make build` needs).
if [[ ! -x /usr/bin/chromium && "${FF_NO_CHROMIUM:-0}" != 1 ]]; then
  apt_install chromium
fi
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  apt_install nodejs npm
fi

# npm modules of the SDK (sdk/js) and of the dashboard (web/dash: esbuild, uPlot), each with
# its own lock file and stamp.
npm_deps() {
  local dir="$1" stamp="$1/node_modules/.footfall-deps.sha256"
  cd "$dir"
  deps_hash() { { cat package.json; cat package-lock.json 2>/dev/null || true; } | sha256sum | cut -d' ' -f1; }
  local want
  want="$(deps_hash)"
  if [[ -d node_modules && -f "$stamp" && "$(cat "$stamp")" == "$want" ]]; then
    echo "install-browser-deps: $dir up to date ($(/usr/bin/chromium --version 2>/dev/null || echo chromium))"
    return 0
  fi
  local log
  log="$(mktemp)"
  local cmd
  if [[ -f package-lock.json ]]; then
    cmd=(npm ci --no-audit --no-fund)
  else
    cmd=(npm install --no-audit --no-fund)
  fi
  if ! "${cmd[@]}" >"$log" 2>&1; then
    cat "$log" >&2
    if grep -Eqi 'ENOTFOUND|EAI_AGAIN|ECONNREFUSED|ECONNRESET|ETIMEDOUT|ENETUNREACH|network|socket hang up' "$log"; then
      echo "install-browser-deps: npm registry unreachable" >&2
      rm -f "$log"
      exit 75
    fi
    rm -f "$log"
    exit 1
  fi
  tail -n 3 "$log"
  rm -f "$log"
  deps_hash >"$stamp" # after install: a first `npm install` writes the lock file
  echo "install-browser-deps: installed into $dir/node_modules"
}

npm_deps "$dir"
npm_deps "$root/web/dash"
