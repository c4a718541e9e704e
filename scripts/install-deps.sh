#!/usr/bin/env bash
# Installs what Footfall needs to build, test and benchmark on Debian 12.
# Idempotent: packages already present are left alone; safe to run repeatedly.
set -euo pipefail

PKGS=(
  build-essential cmake pkg-config clang clang-format libclang-rt-14-dev
  libmicrohttpd-dev libcurl4-openssl-dev libzstd-dev liblz4-dev libxxhash-dev zlib1g-dev libssl-dev
  libcjson-dev libinih-dev lemon
  tzdata  # /usr/share/zoneinfo: time zones of the SQL functions (src/core/ff_tz.c)
  python3 nodejs npm curl ca-certificates
  clickhouse-server clickhouse-client  # the oracle of tests/sql/run_diff.py (sql_diff)
)

missing=()
for p in "${PKGS[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
# Node from another source (e.g. nodesource) ships npm itself; do not fight it.
if command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1; then
  tmp=()
  for p in "${missing[@]}"; do [[ "$p" == nodejs || "$p" == npm ]] || tmp+=("$p"); done
  missing=("${tmp[@]}")
fi
if ((${#missing[@]})); then
  SUDO=""
  [[ $(id -u) -eq 0 ]] || SUDO="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
