#!/usr/bin/env bash
# The whole test suite, as CI runs it (`make test`):
#   1. formatting check (clang-format, the project's .clang-format)
#   2. plain build (-Werror) and every CTest test: unit, fuzz-replay, integration
#   3. ASan+UBSan build and the same tests against the sanitized binary
#   4. each libFuzzer target, fixed seed and input count, capped at FUZZ_SECONDS (60)
# Ends with one line "N passed, N failed" over the steps.
set -uo pipefail
cd "$(dirname "$0")/.."
JOBS=${JOBS:-$(nproc 2>/dev/null || echo 2)}
FUZZ_SECONDS=${FUZZ_SECONDS:-60}
passed=0
failed=0
failures=()

step() {
  local name=$1
  shift
  echo "=== ${name}"
  local t0=$SECONDS
  if "$@"; then
    passed=$((passed + 1))
    echo "=== ${name}: ok ($((SECONDS - t0)) s)"
  else
    failed=$((failed + 1))
    failures+=("$name")
    echo "=== ${name}: FAILED ($((SECONDS - t0)) s)"
  fi
}

format_check() {
  local files
  files=$(git ls-files '*.c' '*.h' 2>/dev/null)
  [[ -z "$files" ]] && files=$(find src tests bench -name '*.[ch]')
  clang-format --dry-run --Werror $files
}

build() {
  local dir=$1
  shift
  cmake -S . -B "$dir" "$@" >/dev/null && cmake --build "$dir" -j"$JOBS"
}

ctest_in() {
  (cd "$1" && ctest --output-on-failure -j"$JOBS" --timeout 900)
}

step "format" format_check
step "build" build build -DCMAKE_BUILD_TYPE=RelWithDebInfo
step "tests" ctest_in build
step "asan build" build build-asan -DCMAKE_BUILD_TYPE=Debug -DFF_SANITIZE=ON
# A small quarantine keeps RSS meaningful for the bounded-memory checks.
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:quarantine_size_mb=16
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
step "asan tests" ctest_in build-asan
step "fuzz build" env CC=clang cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=Debug -DFF_FUZZ=ON
fuzz_targets=$(ls tests/fuzz/fuzz_*.c | xargs -n1 basename | sed 's/\.c$//')
step "fuzz build targets" cmake --build build-fuzz -j"$JOBS" --target $fuzz_targets
step "fuzz run" bash scripts/fuzz.sh build-fuzz "$FUZZ_SECONDS"

if ((failed)); then
  echo "failed steps: ${failures[*]}"
fi
echo "${passed} passed, ${failed} failed"
((failed == 0))
