#!/usr/bin/env bash
# bench/import.sh -- import speed: `footfall import --map taobao` of the Taobao slice, against
# ClickHouse loading the same CSV (HTTP `INSERT ... FORMAT CSV` into a MergeTree table).
#
# Each round imports the file into a fresh data folder (footfall: collector validation,
# privacy, dedupe, log append with fsync per 500-event batch, then the store consumer seals
# the parts: the whole command, as a user runs it) and loads it into a fresh ClickHouse table
# (the bare CSV columns, no validation: a lower bound on what any loader must do). Runs are
# interleaved so drifting machine load hits both alike; medians are printed with the ratio.
# ClickHouse is started by this script on 127.0.0.1 with a free port and a private folder,
# and stopped by PID. Every wait is bounded.
#
#   bench/import.sh [FILE] [ROUNDS]        # default: the Taobao slice, 5 rounds
#   FOOTFALL_BIN=build-x/footfall bench/import.sh
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
FILE=${1:-$ROOT/../shared/data/taobao-userbehavior-slice/UserBehavior_slice.csv}
ROUNDS=${2:-5}
BIN=${FOOTFALL_BIN:-$ROOT/build/footfall}
[[ -f "$FILE" ]] || { echo "no such file: $FILE" >&2; exit 2; }
[[ -x "$BIN" ]] || { echo "no footfall binary at $BIN (set FOOTFALL_BIN)" >&2; exit 2; }
WORK=$(mktemp -d /var/tmp/ff-import-bench.XXXXXX)
CH_PID=""
cleanup() {
  [[ -n "$CH_PID" ]] && kill "$CH_PID" 2>/dev/null && wait "$CH_PID" 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT
log() { echo "import.sh: $*" >&2; }
now() { date +%s.%N; }
LINES=$(wc -l <"$FILE")
BYTES=$(stat -c %s "$FILE")

# ---- ClickHouse (optional: skipped when not installed) ------------------------------------
CH_URL=""
if [[ -x /usr/sbin/clickhouse-server ]]; then
  CH="$WORK/ch"
  mkdir -p "$CH/data/tmp" "$CH/data/user_files" "$CH/data/format_schemas" "$CH/log"
  PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  cat >"$CH/users.xml" <<'EOF'
<?xml version="1.0"?>
<yandex>
  <profiles><default><max_memory_usage>10000000000</max_memory_usage></default></profiles>
  <users><default><password></password><networks><ip>127.0.0.1</ip></networks>
    <profile>default</profile><quota>default</quota></default></users>
  <quotas><default><interval><duration>3600</duration><queries>0</queries><errors>0</errors>
    <result_rows>0</result_rows><read_rows>0</read_rows><execution_time>0</execution_time>
  </interval></default></quotas>
</yandex>
EOF
  cat >"$CH/config.xml" <<EOF
<?xml version="1.0"?>
<yandex>
  <logger><level>warning</level><log>$CH/log/server.log</log>
    <errorlog>$CH/log/error.log</errorlog><size>100M</size><count>1</count></logger>
  <listen_host>127.0.0.1</listen_host>
  <http_port>$PORT</http_port>
  <path>$CH/data/</path>
  <tmp_path>$CH/data/tmp/</tmp_path>
  <user_files_path>$CH/data/user_files/</user_files_path>
  <format_schema_path>$CH/data/format_schemas/</format_schema_path>
  <users_config>$CH/users.xml</users_config>
  <default_profile>default</default_profile>
  <default_database>default</default_database>
  <timezone>UTC</timezone>
  <mlock_executable>false</mlock_executable>
  <mark_cache_size>268435456</mark_cache_size>
</yandex>
EOF
  /usr/sbin/clickhouse-server --config-file="$CH/config.xml" >"$CH/log/stdout" 2>&1 &
  CH_PID=$!
  for ((i = 0; i < 300; i++)); do
    if [[ "$(curl -s --max-time 2 "http://127.0.0.1:$PORT/?query=SELECT%201" 2>/dev/null)" == 1 ]]; then
      CH_URL="http://127.0.0.1:$PORT"
      break
    fi
    kill -0 "$CH_PID" 2>/dev/null || break
    sleep 0.1
  done
  [[ -n "$CH_URL" ]] || log "clickhouse-server did not start; footfall only"
else
  log "clickhouse-server not installed; footfall only"
fi
chq() { curl -sS --max-time 300 "$CH_URL/" --data-binary "$1"; }
CH_VERSION=""
[[ -n "$CH_URL" ]] && CH_VERSION=$(chq 'SELECT version()')

median() { sort -g | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
FF_T=() CH_T=()
for ((r = 1; r <= ROUNDS; r++)); do
  D="$WORK/ff$r"
  t0=$(now)
  "$BIN" import --data "$D" "$FILE" --map taobao >"$WORK/ff$r.out"
  t1=$(now)
  FF_T+=("$(echo "$t1 - $t0" | bc -l)")
  n=$("$BIN" query --data "$D" --format csv "SELECT count() FROM events" | tail -n1)
  [[ "$n" == "$LINES" ]] || { log "footfall holds $n rows, want $LINES"; exit 1; }
  rm -rf "$D"
  if [[ -n "$CH_URL" ]]; then
    chq "DROP TABLE IF EXISTS t$r" >/dev/null
    chq "CREATE TABLE t$r (user_id UInt64, item_id UInt64, category_id UInt64, behavior String,
         ts DateTime) ENGINE = MergeTree ORDER BY (user_id, ts)" >/dev/null
    t0=$(now)
    curl -sS --max-time 300 "$CH_URL/?query=INSERT%20INTO%20t$r%20FORMAT%20CSV" \
      --data-binary @"$FILE" >/dev/null
    t1=$(now)
    CH_T+=("$(echo "$t1 - $t0" | bc -l)")
    n=$(chq "SELECT count() FROM t$r")
    [[ "$n" == "$LINES" ]] || { log "ClickHouse holds $n rows, want $LINES"; exit 1; }
    chq "DROP TABLE t$r" >/dev/null
  fi
  log "round $r: footfall ${FF_T[-1]} s${CH_URL:+, ClickHouse ${CH_T[-1]} s}"
done
ff=$(printf '%s\n' "${FF_T[@]}" | median)
echo "file: $FILE ($LINES lines, $BYTES bytes); $ROUNDS rounds, interleaved; medians"
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), load $(cut -d' ' -f1-3 /proc/loadavg)"
printf 'footfall import --map taobao: %.2f s = %.0f events/s (runs: %s)\n' "$ff" \
  "$(echo "$LINES / $ff" | bc -l)" "${FF_T[*]}"
if ((${#CH_T[@]})); then
  ch=$(printf '%s\n' "${CH_T[@]}" | median)
  printf 'ClickHouse %s INSERT FORMAT CSV: %.2f s = %.0f events/s (runs: %s)\n' "$CH_VERSION" \
    "$ch" "$(echo "$LINES / $ch" | bc -l)" "${CH_T[*]}"
  printf 'footfall / ClickHouse events/s: %.2f\n' "$(echo "$ch / $ff" | bc -l)"
fi
echo "last footfall summary: $(cat "$WORK/ff$ROUNDS.out")"
