#!/usr/bin/env bash
# Run every libFuzzer target in BUILD_DIR, starting from a scratch copy of its
# checked-in corpus (so CI never edits the repo). A crash fails the run and
# leaves the input in tests/fuzz/artifacts/: add it to
# tests/fuzz/corpus/<target>/ so fuzz-replay keeps testing it.
#
# CI runs are reproducible: a fixed seed and a fixed number of inputs per
# target (about 20 s each here), with SECONDS as a safety cap. So a CI result
# does not depend on luck; FF_FUZZ_SEED=0 (random) and a larger SECONDS are
# for fuzzing in earnest.
set -uo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${1:-build-fuzz}
SECONDS_EACH=${2:-30}
mkdir -p tests/fuzz/artifacts
rc=0
found=0
for bin in "$BUILD_DIR"/fuzz_*; do
  [[ -x "$bin" && "$bin" != *_replay ]] || continue
  found=1
  name=$(basename "$bin")
  work=$(mktemp -d)
  cp -r "tests/fuzz/corpus/$name/." "$work/" 2>/dev/null || true
  case "$name" in
    fuzz_json) runs=600000 ;;
    fuzz_collect) runs=250000 ;;
    fuzz_import) runs=150000 ;;
    fuzz_sql) runs=100000 ;;
    fuzz_evlog) runs=10000 ;;
    fuzz_part) runs=6000 ;;
    fuzz_rules) runs=100000 ;;
    fuzz_stream) runs=100000 ;;
    fuzz_accept_encoding) runs=200000 ;;
    *) runs=50000 ;;
  esac
  seed=${FF_FUZZ_SEED:-1}
  [[ "$seed" == 0 ]] && runs=-1
  echo "fuzzing $name: seed $seed, $runs inputs, at most ${SECONDS_EACH}s"
  if ! ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
      "$bin" -seed="$seed" -runs="$runs" \
      -max_total_time="$SECONDS_EACH" -timeout=10 \
      -rss_limit_mb=2048 -max_len=65536 -print_final_stats=1 \
      -artifact_prefix="tests/fuzz/artifacts/${name}-" "$work" >"$work.log" 2>&1; then
    echo "FUZZ FAILURE in $name:"
    tail -40 "$work.log"
    rc=1
  else
    grep -E "stat::number_of_executed_units|Done" "$work.log" | tail -2
  fi
  rm -rf "$work" "$work.log"
done
if ((found == 0)); then
  echo "no fuzz targets built in $BUILD_DIR"
  exit 1
fi
exit $rc
