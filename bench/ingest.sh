#!/usr/bin/env bash
# bench/ingest.sh -- the ingest benchmark, end to end.
#
# Builds footfall and bench_ingest (Release), measures the load generator's own
# ceiling against a trivial sink, then runs footfall with --fsync batch and
# --fsync interval, each with plain and gzip bodies, and the same events into
# ClickHouse (Debian's clickhouse-server, HTTP INSERT ... FORMAT JSONEachRow) as
# the peer, interleaved so that drifting machine load hits both alike. With
# --rounds N the whole sequence is repeated and medians are reported. Prints a
# summary table with ratios; with --write-docs it also replaces the generated
# block of docs/benchmarks.md.
#
# Every server is started by this script on 127.0.0.1 with a free port and a
# data folder of its own, and stopped by PID. Every wait is bounded.
#
#   bench/ingest.sh                  # one round, 60 s per measurement (~10 min)
#   bench/ingest.sh --quick          # 5 s runs, to check the set-up (not a result)
#   bench/ingest.sh --write-docs     # also update docs/benchmarks.md
#   bench/ingest.sh --help
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD="$ROOT/build-bench"
DURATION=60
WARMUP=5
CONNS=8
BATCH=100
EVENTS=200000
ROUNDS=1
CH_BIG_BATCH=10000
SINK_DURATION=10
DATA_PARENT=/var/tmp
OUT=""
FOOTFALL_BIN=""
DO_BUILD=1
DO_FOOTFALL=1
DO_CLICKHOUSE=1
DO_DOCS=0
KEEP_DATA=0
INVOCATION="bench/ingest.sh${*:+ $*}"

usage() {
  cat <<'EOF'
usage: bench/ingest.sh [options]
  --duration S        measured seconds per run (default 60)
  --warmup S          unmeasured seconds before each run (default 5)
  --conns N           concurrent keep-alive connections (default 8)
  --batch N           events per request (default 100)
  --events N          distinct pre-generated events per run (default 200000)
  --rounds N          repeat the footfall/ClickHouse sequence N times; medians (default 1)
  --ch-big-batch N    extra ClickHouse run with this batch size, 0 = none (default 10000)
  --quick             --duration 5 --warmup 1 --events 50000 (a set-up check, not a result)
  --build-dir DIR     CMake build folder (default build-bench)
  --no-build          use the binaries already in the build folder
  --footfall BIN      footfall binary to test (default: BUILD/footfall)
  --no-footfall       skip footfall (peer and sink only)
  --no-clickhouse     skip ClickHouse
  --data-parent DIR   where data folders are made; must be a real disk (default /var/tmp)
  --out FILE          JSON lines output (default BUILD/bench-ingest-<time>.jsonl)
  --write-docs        replace the generated block in docs/benchmarks.md
  --keep-data         keep data folders and logs
EOF
}

while (($#)); do
  case "$1" in
    --duration) DURATION=$2; shift ;;
    --warmup) WARMUP=$2; shift ;;
    --conns) CONNS=$2; shift ;;
    --batch) BATCH=$2; shift ;;
    --events) EVENTS=$2; shift ;;
    --rounds) ROUNDS=$2; shift ;;
    --ch-big-batch) CH_BIG_BATCH=$2; shift ;;
    --quick) DURATION=5; WARMUP=1; EVENTS=50000; SINK_DURATION=3 ;;
    --build-dir) BUILD=$2; shift ;;
    --no-build) DO_BUILD=0 ;;
    --footfall) FOOTFALL_BIN=$2; shift ;;
    --no-footfall) DO_FOOTFALL=0 ;;
    --no-clickhouse) DO_CLICKHOUSE=0 ;;
    --data-parent) DATA_PARENT=$2; shift ;;
    --out) OUT=$2; shift ;;
    --write-docs) DO_DOCS=1 ;;
    --keep-data) KEEP_DATA=1 ;;
    -h|--help) usage; exit 0 ;;
    *) echo "ingest.sh: unknown option $1" >&2; usage >&2; exit 2 ;;
  esac
  shift
done
((ROUNDS >= 1 && ROUNDS <= 20)) || { echo "ingest.sh: --rounds must be 1..20" >&2; exit 2; }

log() { printf '== %s\n' "$*" >&2; }
need() { command -v "$1" >/dev/null 2>&1 || { echo "ingest.sh: needs $1" >&2; exit 2; }; }
need curl
need python3
need cmake

BENCH="$BUILD/bench_ingest"
[[ -n "$FOOTFALL_BIN" ]] || FOOTFALL_BIN="$BUILD/footfall"
mkdir -p "$BUILD"
STAMP=$(date -u +%Y%m%dT%H%M%SZ)
[[ -n "$OUT" ]] || OUT="$BUILD/bench-ingest-$STAMP.jsonl"
: >"$OUT"
COMMIT=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)
WORK=$(mktemp -d "$DATA_PARENT/footfall-bench.XXXXXX")
FSTYPE=$(stat -f -c %T "$WORK")
if [[ "$FSTYPE" == tmpfs || "$FSTYPE" == ramfs ]]; then
  echo "ingest.sh: $WORK is on $FSTYPE, where fsync costs nothing; use --data-parent on a disk" >&2
  exit 2
fi

# ---- processes we start, stopped by PID ----------------------------------------
PIDS=()
stop_pid() { # stop_pid PID [SECONDS]: TERM, wait up to SECONDS (15), then KILL
  local pid=$1 secs=${2:-15} i
  kill -0 "$pid" 2>/dev/null || return 0
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < secs * 10; i++)); do
    kill -0 "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null || true; return 0; }
    sleep 0.1
  done
  echo "ingest.sh: pid $pid still running $secs s after SIGTERM; sending SIGKILL" >&2
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}
cleanup() {
  local p
  for p in "${PIDS[@]}"; do stop_pid "$p"; done
  if ((KEEP_DATA)); then
    echo "ingest.sh: data and logs kept in $WORK" >&2
  else
    rm -rf "$WORK"
  fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# wait_line FILE REGEX SECONDS: print the first line of FILE matching REGEX.
wait_line() {
  local f=$1 re=$2 secs=$3 i line
  for ((i = 0; i < secs * 10; i++)); do
    line=$(grep -m1 -E "$re" "$f" 2>/dev/null || true)
    if [[ -n "$line" ]]; then
      printf '%s\n' "$line"
      return 0
    fi
    sleep 0.1
  done
  return 1
}

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# last_acked: acknowledged events (warm-up included) of the last run in OUT.
last_acked() {
  tail -n1 "$OUT" |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["results"]["acked_events_all"])' \
      2>/dev/null || echo '"?"'
}

# ---- build ------------------------------------------------------------------------
FOOTFALL_OK=0
if ((DO_BUILD)); then
  log "build (Release) in $BUILD"
  if cmake -S "$ROOT" -B "$BUILD" -DCMAKE_BUILD_TYPE=Release >"$BUILD/cmake-configure.log" 2>&1; then
    cmake --build "$BUILD" -j2 --target bench_ingest >"$BUILD/build-bench.log" 2>&1 ||
      log "bench_ingest did not build with CMake (see $BUILD/build-bench.log)"
    if ((DO_FOOTFALL)) && [[ "$FOOTFALL_BIN" == "$BUILD/footfall" ]]; then
      cmake --build "$BUILD" -j2 --target footfall >"$BUILD/build-footfall.log" 2>&1 ||
        log "footfall did not build (see $BUILD/build-footfall.log)"
    fi
  else
    log "CMake configure failed (see $BUILD/cmake-configure.log)"
  fi
  if [[ ! -x "$BENCH" || "$BENCH" -ot "$ROOT/bench/bench_ingest.c" ]]; then
    # The generator needs only src/core; build it directly so the peer and
    # sink runs still work while other modules are half-written.
    log "building bench_ingest directly against src/core"
    cc -std=c11 -O2 -DNDEBUG -D_GNU_SOURCE -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes \
      -Wmissing-prototypes -Wformat=2 -Wvla -Wimplicit-fallthrough -I"$ROOT/src" \
      "$ROOT/bench/bench_ingest.c" "$ROOT"/src/core/ff_{buf,clock,mem,err}.c \
      -lz -lpthread -o "$BENCH"
  fi
fi
[[ -x "$BENCH" ]] || { echo "ingest.sh: no $BENCH" >&2; exit 2; }
FOOTFALL_BUILT=0
if ((DO_BUILD)) && [[ "$FOOTFALL_BIN" == "$BUILD/footfall" && -f "$BUILD/build-footfall.log" ]] &&
  ! grep -q 'Error' "$BUILD/build-footfall.log"; then
  FOOTFALL_BUILT=1
fi
if ((DO_FOOTFALL)) && [[ -x "$FOOTFALL_BIN" ]]; then FOOTFALL_OK=1; fi
if ((DO_FOOTFALL)) && ((!FOOTFALL_OK)); then
  log "no footfall binary at $FOOTFALL_BIN: footfall runs skipped"
fi

BT=$(sed -n 's/^CMAKE_BUILD_TYPE:[A-Z]*=//p' "$BUILD/CMakeCache.txt" 2>/dev/null || true)
[[ -n "$BT" ]] || BT=Release
COMMON=(--conns "$CONNS" --batch "$BATCH" --events "$EVENTS" --duration "$DURATION"
  --warmup "$WARMUP" --commit "$COMMIT" --build-type "$BT")

# run_bench LABEL ARGS...: one measurement, JSON line appended to OUT.
run_bench() {
  local label=$1
  shift
  log "run: $label (uptime: $(uptime | sed 's/.*load average/load average/'))"
  local line
  if line=$("$BENCH" --label "$label" "$@" 2>"$WORK/bench-stderr.log"); then
    printf '%s\n' "$line" >>"$OUT"
    python3 - "$line" <<'EOF' >&2
import json, sys
d = json.loads(sys.argv[1]); r = d["results"]; s = r.get("server", {})
print("   %.0f events/s, %.1f MB/s, p50 %.2f ms, p99 %.2f ms, errors %s, server RSS %s -> %s kB,"
      " other work on the machine %.2f cores"
      % (r["events_per_s"], r["mb_per_s"], r["lat_ms"]["p50"], r["lat_ms"]["p99"],
         sum(r["errors"].values()) - r["errors"]["reconnects"], s.get("rss_start_kb"),
         s.get("rss_end_kb"), r["machine"]["others_cores"]))
EOF
  else
    log "run failed: $label"
    cat "$WORK/bench-stderr.log" >&2
    [[ -z "$line" ]] || printf '%s\n' "$line" >>"$OUT"
  fi
  grep -h 'first error' "$WORK/bench-stderr.log" >&2 || true
}

{
  echo "machine: nproc=$(nproc), cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //')," \
    "mem=$(awk '/MemTotal/ {printf "%.1f GiB", $2/1048576}' /proc/meminfo), kernel=$(uname -r)," \
    "data on $FSTYPE ($WORK)"
  echo "before: $(uptime)"
} >&2
printf '{"uptime_before":"%s","invocation":"%s"}\n' \
  "$(uptime | sed 's/.*load average: //')" "$INVOCATION" >>"$OUT"
if ((FOOTFALL_OK)); then
  printf '{"footfall_bin":"%s","footfall_built_from_this_tree":%s,"footfall_bin_time":"%s"}\n' \
    "$FOOTFALL_BIN" "$( ((FOOTFALL_BUILT)) && echo true || echo false)" \
    "$(date -u -r "$FOOTFALL_BIN" +%Y-%m-%dT%H:%M:%SZ)" >>"$OUT"
  ((FOOTFALL_BUILT)) || log "footfall was not (re)built from this tree: using $FOOTFALL_BIN" \
    "of $(date -u -r "$FOOTFALL_BIN" +%H:%M:%SZ)"
fi

# ---- 1. the client's own ceiling against a trivial sink -----------------------------
log "client ceiling: trivial sink"
"$BENCH" --sink 127.0.0.1:0 --sink-seconds $((SINK_DURATION * 2 + WARMUP * 2 + 120)) \
  >"$WORK/sink.out" 2>&1 &
SINK_PID=$!
PIDS+=("$SINK_PID")
if SINK_URL=$(wait_line "$WORK/sink.out" '^listening http://' 10 | awk '{print $2}'); then
  run_bench "sink plain" --target footfall --url "$SINK_URL" --key bench \
    --watch-pid "$SINK_PID" "${COMMON[@]}" --duration "$SINK_DURATION"
  run_bench "sink gzip" --target footfall --url "$SINK_URL" --key bench --gzip \
    --watch-pid "$SINK_PID" "${COMMON[@]}" --duration "$SINK_DURATION"
else
  log "sink did not start"
fi
stop_pid "$SINK_PID"

# ---- 2. footfall: one run on a fresh data folder ---------------------------------------
RUN_N=0
footfall_run() { # footfall_run FSYNC ENC: one measurement, retried once if the server died
  local try
  for try in 1 2; do
    footfall_run_once "$@" && return 0
    ((try == 2)) || log "   footfall exited during the run; once more on a fresh data folder"
  done
}
footfall_run_once() { # returns 1 when the server was gone before the run ended
  local fsync=$1 enc=$2 d key pid url acked stored alive=1
  RUN_N=$((RUN_N + 1))
  d="$WORK/footfall-$RUN_N-$fsync-$enc"
  mkdir -p "$d"
  if ! key=$("$FOOTFALL_BIN" keys create --data "$d/data" --kind write 2>"$d/keys.err" |
    tail -n1 | awk '{print $NF}') || [[ -z "$key" ]]; then
    log "footfall keys create failed:"
    cat "$d/keys.err" >&2
    return 0
  fi
  "$FOOTFALL_BIN" serve --data "$d/data" --listen 127.0.0.1:0 --fsync "$fsync" \
    >"$d/serve.out" 2>"$d/serve.err" &
  pid=$!
  PIDS+=("$pid")
  if ! url=$(wait_line "$d/serve.out" '^listening http://' 20 | awk '{print $2}'); then
    log "footfall serve did not print 'listening' within 20 s:"
    tail -n 20 "$d/serve.err" >&2
    stop_pid "$pid"
    return 0
  fi
  local gz=()
  [[ $enc == gzip ]] && gz=(--gzip)
  local before
  before=$(wc -l <"$OUT")
  run_bench "footfall fsync=$fsync $enc" --target footfall --url "$url" --key "$key" \
    "${gz[@]}" --watch-pid "$pid" "${COMMON[@]}"
  kill -0 "$pid" 2>/dev/null || alive=0
  if ((!alive)); then
    log "   footfall (pid $pid) exited before the run ended; its stderr ends with:"
    tail -n 3 "$d/serve.err" >&2
    # drop the broken run's line so it does not enter the medians
    if (($(wc -l <"$OUT") > before)); then
      head -n "$before" "$OUT" >"$OUT.tmp" && mv "$OUT.tmp" "$OUT"
    fi
    printf '{"failed_run":"footfall fsync=%s %s","why":"server exited during the run"}\n' \
      "$fsync" "$enc" >>"$OUT"
    ((KEEP_DATA)) || rm -rf "$d/data"
    return 1
  fi
  acked=$(last_acked)
  stop_pid "$pid"
  # what the log holds after a clean stop, against what was acknowledged
  stored=$(timeout 600 "$FOOTFALL_BIN" log verify --data "$d/data" 2>"$d/verify.err" |
    sed -n 's/^ok: \([0-9]*\) records.*/\1/p' || true)
  if [[ -z "$stored" ]]; then
    stored='"?"'
    log "footfall log verify failed: $(head -c 300 "$d/verify.err")"
  fi
  log "   footfall log holds $stored records; the generator got 200 for $acked events (incl. warm-up)"
  printf '{"footfall_data":"%s","fsync":"%s","enc":"%s","data_bytes":%s,"stored":%s,"acked":%s}\n' \
    "$d" "$fsync" "$enc" "$(du -sb "$d/data" | cut -f1)" "$stored" "$acked" >>"$OUT"
  ((KEEP_DATA)) || rm -rf "$d/data"
  return 0
}

# ---- 3. ClickHouse: installed if missing, private config, started by us -------------------
CH_UP=0
ch_start() {
  if [[ ! -x /usr/sbin/clickhouse-server ]]; then
    log "installing clickhouse-server from Debian (bench only; not a project dependency)"
    local sudo=""
    [[ $(id -u) -eq 0 ]] || sudo=sudo
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq
    # In containers policy-rc.d stops the package from starting its own service.
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq clickhouse-server >&2
  fi
  CH="$WORK/clickhouse"
  mkdir -p "$CH/data/tmp" "$CH/data/user_files" "$CH/data/format_schemas" "$CH/log"
  CH_PORT=$(free_port)
  cat >"$CH/users.xml" <<'EOF'
<?xml version="1.0"?>
<yandex>
  <profiles><default><max_memory_usage>10000000000</max_memory_usage>
    <use_uncompressed_cache>0</use_uncompressed_cache></default></profiles>
  <users><default><password></password>
    <networks><ip>127.0.0.1</ip><ip>::1</ip></networks>
    <profile>default</profile><quota>default</quota></default></users>
  <quotas><default><interval><duration>3600</duration><queries>0</queries><errors>0</errors>
    <result_rows>0</result_rows><read_rows>0</read_rows><execution_time>0</execution_time>
  </interval></default></quotas>
</yandex>
EOF
  # HTTP only (no tcp_port, no interserver port), 127.0.0.1, private data folder.
  cat >"$CH/config.xml" <<EOF
<?xml version="1.0"?>
<yandex>
  <logger><level>warning</level><log>$CH/log/server.log</log>
    <errorlog>$CH/log/error.log</errorlog><size>100M</size><count>1</count></logger>
  <listen_host>127.0.0.1</listen_host>
  <http_port>$CH_PORT</http_port>
  <max_connections>1024</max_connections>
  <keep_alive_timeout>60</keep_alive_timeout>
  <max_concurrent_queries>100</max_concurrent_queries>
  <uncompressed_cache_size>1073741824</uncompressed_cache_size>
  <mark_cache_size>1073741824</mark_cache_size>
  <path>$CH/data/</path>
  <tmp_path>$CH/data/tmp/</tmp_path>
  <user_files_path>$CH/data/user_files/</user_files_path>
  <format_schema_path>$CH/data/format_schemas/</format_schema_path>
  <users_config>$CH/users.xml</users_config>
  <default_profile>default</default_profile>
  <default_database>default</default_database>
  <timezone>UTC</timezone>
  <mlock_executable>false</mlock_executable>
</yandex>
EOF
  /usr/sbin/clickhouse-server --config-file="$CH/config.xml" >"$CH/log/stdout" 2>&1 &
  CH_PID=$!
  PIDS+=("$CH_PID")
  CH_URL="http://127.0.0.1:$CH_PORT"
  local i
  for ((i = 0; i < 300; i++)); do
    if [[ "$(curl -s --max-time 2 "$CH_URL/?query=SELECT%201" 2>/dev/null)" == 1 ]]; then
      CH_UP=1
      break
    fi
    kill -0 "$CH_PID" 2>/dev/null || break
    sleep 0.1
  done
  if ((!CH_UP)); then
    log "clickhouse-server did not answer within 30 s:"
    tail -n 20 "$CH/log/stdout" "$CH/log/error.log" >&2 2>/dev/null || true
    return 0
  fi
  CH_VERSION=$(chq 'SELECT version()')
  log "clickhouse-server $CH_VERSION on $CH_URL (pid $CH_PID)"
  printf '{"clickhouse_version":"%s"}\n' "$CH_VERSION" >>"$OUT"
  chq 'CREATE DATABASE IF NOT EXISTS bench'
  # 18.16 has no DateTime64 and needs a setting for LowCardinality: DateTime
  # (seconds) plus the milliseconds as UInt64, plain String columns.
  chq "CREATE TABLE IF NOT EXISTS bench.events (
    event_id String, ts DateTime, ts_ms UInt64, event String,
    user_id String, anonymous_id String, url String, referrer String,
    product_id String, category String, price Decimal(18,2), quantity UInt32,
    order_id String, revenue Decimal(18,2), currency String,
    ip String, user_agent String, properties String
  ) ENGINE = MergeTree PARTITION BY toYYYYMMDD(ts) ORDER BY (event, ts)"
}
chq() { curl -sS --max-time 120 "$CH_URL/" --data-binary "$1"; }
# ch_settle: wait (up to 60 s) for background merges to finish, so one run's
# merges do not eat the next run's CPU.
ch_settle() {
  local j
  for ((j = 0; j < 60; j++)); do
    [[ "$(chq 'SELECT count() FROM system.merges')" == 0 ]] && return 0
    sleep 1
  done
  log "ClickHouse merges still running after 60 s"
}
ch_run() { # ch_run LABEL ARGS...
  ((CH_UP)) || return 0
  local label=$1 n acked
  shift
  chq 'TRUNCATE TABLE bench.events'
  ch_settle
  run_bench "$label" --target clickhouse --url "$CH_URL" --watch-pid "$CH_PID" "$@"
  acked=$(last_acked)
  n=$(chq 'SELECT count() FROM bench.events')
  log "   ClickHouse holds $n rows; the generator got 200 for $acked events (incl. warm-up)"
  printf '{"clickhouse_rows":%s,"acked":%s,"label":"%s"}\n' "${n:-0}" "$acked" "$label" >>"$OUT"
}

# ---- 4. the rounds: footfall and its peer interleaved ------------------------------------
((DO_CLICKHOUSE)) && ch_start
BIG_EVENTS=$((EVENTS > CH_BIG_BATCH * CONNS * 2 ? EVENTS : CH_BIG_BATCH * CONNS * 2))
for ((round = 1; round <= ROUNDS; round++)); do
  ((ROUNDS == 1)) || log "round $round of $ROUNDS"
  ((FOOTFALL_OK)) && footfall_run batch plain
  ch_run "clickhouse plain" "${COMMON[@]}"
  ((FOOTFALL_OK)) && footfall_run batch gzip
  ch_run "clickhouse gzip" "${COMMON[@]}" --gzip
  ((FOOTFALL_OK)) && footfall_run interval plain
  ((FOOTFALL_OK)) && footfall_run interval gzip
  if ((CH_BIG_BATCH > 0)); then
    ch_run "clickhouse plain batch=$CH_BIG_BATCH" "${COMMON[@]}" --batch "$CH_BIG_BATCH" \
      --events "$BIG_EVENTS"
  fi
done
# ClickHouse finishes its merges before it exits: give it a minute.
((CH_UP)) && stop_pid "$CH_PID" 60

echo "after: $(uptime)" >&2
printf '{"uptime_after":"%s"}\n' "$(uptime | sed 's/.*load average: //')" >>"$OUT"

# ---- 5. summary ----------------------------------------------------------------------------
SUMMARY="$WORK/summary.md"
python3 - "$OUT" >"$SUMMARY" <<'EOF'
import json, statistics, sys

runs, extra, stored, rows = {}, {}, {}, {}
for line in open(sys.argv[1]):
    line = line.strip()
    if not line:
        continue
    d = json.loads(line)
    if d.get("bench") == "ingest":
        if d["results"]["requests"] == 0:
            extra.setdefault("failed", []).append("%s (no request acknowledged)" %
                                                  d["params"]["label"])
            continue
        runs.setdefault(d["params"]["label"], []).append(d)
    elif "clickhouse_rows" in d:
        rows.setdefault(d["label"], []).append((d["clickhouse_rows"], d["acked"]))
    elif "failed_run" in d:
        extra.setdefault("failed", []).append("%s (%s)" % (d["failed_run"], d["why"]))
    elif "footfall_data" in d:
        lab = "footfall fsync=%s %s" % (d["fsync"], d["enc"])
        stored.setdefault(lab, []).append((d["stored"], d["acked"], d["data_bytes"]))
    else:
        extra.update(d)
if not runs:
    print("(no runs completed)")
    sys.exit(0)
# describe the runs by a server run (the sink runs are shorter)
first = next((v[0] for k, v in runs.items() if not k.startswith("sink")),
             next(iter(runs.values()))[0])
h, p = first["host"], first["params"]
n_rounds = max((len(v) for k, v in runs.items() if not k.startswith("sink")), default=1)

def med(label, f):
    return statistics.median(f(d) for d in runs[label])

def eps(label):
    return med(label, lambda d: d["results"]["events_per_s"])

def mb(kb):
    return "-" if kb is None or kb < 0 else "%.0f" % (kb / 1024)

out = []
w = out.append
w("Generated by `%s` on %s, commit `%s`, build %s." % (
    extra.get("invocation", "bench/ingest.sh"), first["time"][:16].replace("T", " ") + " UTC",
    first["commit"], first["build_type"]))
w("")
w("- Machine: %d cores (%s), %.1f GiB RAM, Linux %s; client and server share the cores." % (
    h["nproc"], h["cpu"], h["mem_mb"] / 1024, h["kernel"]))
w("- Load average (1/5/15 min) before: %s; after: %s (it counts the benchmark's own threads; "
  "the \"others\" column is the CPU used by everything else during each run)." % (
    extra.get("uptime_before", "?"), extra.get("uptime_after", "?")))
w("- Each run: %d connections, batches of %d events, %.0f s measured after %.0f s warm-up, "
  "%d distinct pre-generated events (ids re-stamped on reuse)%s." % (
    p["conns"], p["batch"], p["duration_s"], p["warmup_s"], p["pool_events"],
    "; %d rounds, footfall and ClickHouse runs interleaved, medians shown" % n_rounds
    if n_rounds > 1 else "; footfall and ClickHouse runs interleaved"))
if "footfall_bin_time" in extra:
    w("- footfall binary: %s, built %s%s." % (
        extra["footfall_bin"].split("/")[-1], extra["footfall_bin_time"].replace("T", " "),
        " from this tree" if extra["footfall_built_from_this_tree"]
        else " (**not** built by this run from this tree: it may not match the commit)"))
for f in extra.get("failed", []):
    w("- Failed run, left out of the table: %s." % f)
if "clickhouse_version" in extra:
    w("- Peer: ClickHouse %s (Debian package), MergeTree, HTTP `INSERT ... FORMAT JSONEachRow`." %
      extra["clickhouse_version"])
w("")
w("| run | events/s | MB/s on the wire | p50 ms | p99 ms | server RSS MB: start → end (peak) "
  "| server CPU µs/event | others, cores | non-2xx / net errors |")
w("|---|--:|--:|--:|--:|--:|--:|--:|--:|")
for label, ds in runs.items():
    e_med = eps(label)
    spread = ""
    if len(ds) > 1:
        vals = [d["results"]["events_per_s"] for d in ds]
        spread = " (%s–%s)" % (format(int(min(vals)), ","), format(int(max(vals)), ","))
    srv = [d["results"].get("server") for d in ds]
    last = ds[-1]["results"].get("server", {})
    bad = sum(d["results"]["errors"][k] for d in ds
              for k in ("http_4xx", "http_429", "http_5xx", "http_other"))
    net = sum(d["results"]["errors"]["net"] for d in ds)
    w("| %s | %s%s | %.1f | %.2f | %.2f | %s → %s (%s) | %s | %.2f | %d / %d |" % (
        label, format(int(e_med), ","), spread,
        med(label, lambda d: d["results"]["mb_per_s"]),
        med(label, lambda d: d["results"]["lat_ms"]["p50"]),
        med(label, lambda d: d["results"]["lat_ms"]["p99"]),
        mb(last.get("rss_start_kb")), mb(last.get("rss_end_kb")),
        mb(max(s.get("rss_peak_kb", -1) for s in srv if s) if any(srv) else None),
        "%.1f" % med(label, lambda d: d["results"]["server"]["cpu_us_per_event"])
        if all(srv) else "-",
        med(label, lambda d: d["results"]["machine"]["others_cores"]), bad, net))
w("")
sizes = []
for label, ds in runs.items():
    r = ds[0]["results"]
    if label == "sink plain":
        sizes.append("Segment batch JSON %.0f B/event (%.0f kB per request)" % (
            r["event_bytes_avg"], r["body_bytes_avg"] / 1000))
    if label == "sink gzip":
        sizes.append("gzip level %d: %.1f kB per request (%.1f× smaller; an ordinary gzip "
                     "would be %.1f×)" % (ds[0]["params"]["gzip_level"],
                                          r["body_bytes_avg"] / 1000, r["gzip_ratio"],
                                          r["gzip_ratio_ordinary"]))
    if label == "clickhouse plain":
        sizes.append("JSONEachRow %.0f B/row" % r["event_bytes_avg"])
if sizes:
    w("Data size: " + "; ".join(sizes) + ".")
w("")
for label, v in stored.items():
    ok = all(s == a for s, a, _ in v)
    w("- %s: `footfall log verify` counted %s records against %s acknowledged events "
      "(warm-up included)%s; data folder %s MB." % (
        label, " / ".join(str(s) for s, _, _ in v), " / ".join(str(a) for _, a, _ in v),
        "" if ok else " **(differs)**", " / ".join("%.0f" % (b / 1e6) for _, _, b in v)))
for label, v in rows.items():
    ok = all(s == a for s, a in v)
    w("- %s: `SELECT count()` %s against %s acknowledged%s." % (
        label, " / ".join(str(s) for s, _ in v), " / ".join(str(a) for _, a in v),
        "" if ok else " **(differs)**"))
w("")
big = [k for k in runs if k.startswith("clickhouse plain batch=")]
ratios = []
for label in runs:
    if not label.startswith("footfall"):
        continue
    enc = "gzip" if runs[label][0]["params"]["gzip"] else "plain"
    f = eps(label)
    peer = "clickhouse " + enc
    cells = [label, "%.1f×" % (f / eps(peer)) if peer in runs and eps(peer) else "-",
             "%.2f×" % (f / eps(big[0])) if big and eps(big[0]) else "-"]
    ratios.append(cells)
if ratios:
    w("| footfall run | ÷ ClickHouse, same events, batches and encoding | ÷ ClickHouse, plain, "
      "batches of %s |" % (runs[big[0]][0]["params"]["batch"] if big else "-"))
    w("|---|--:|--:|")
    for c in ratios:
        w("| %s | %s | %s |" % tuple(c))
    w("")
for label, ds in runs.items():
    if label.startswith("sink"):
        continue
    tl = ds[-1]["results"]["timeline"]
    if tl["rss_kb"]:
        w("- %s, every %.0f s: events/s %s; RSS MB %s." % (
            label, tl["every_s"], " ".join("%.0fk" % (x / 1000) for x in tl["events_per_s"]),
            " ".join("%.0f" % (x / 1024) for x in tl["rss_kb"])))
print("\n".join(out))
EOF
cat "$SUMMARY"
log "JSON lines: $OUT"

if ((DO_DOCS)); then
  DOC="$ROOT/docs/benchmarks.md"
  python3 - "$DOC" "$SUMMARY" <<'EOF'
import sys
doc, summ = sys.argv[1], sys.argv[2]
begin, end = "<!-- ingest:results:begin -->", "<!-- ingest:results:end -->"
text = open(doc).read()
new = open(summ).read().strip()
i, j = text.find(begin), text.find(end)
if i < 0 or j < i:
    sys.exit("docs/benchmarks.md has no ingest:results markers")
text = text[: i + len(begin)] + "\n" + new + "\n" + text[j:]
open(doc, "w").write(text)
EOF
  log "updated $DOC"
fi
