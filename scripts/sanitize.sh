#!/bin/sh
# Runs the test suite under a sanitizer: address (out-of-bounds and use-after-free, and leaks at exit) or
# thread (data races, for example in the multi-threaded GEMM).
#
#   scripts/sanitize.sh address|thread [more swift test options, e.g. --filter GEMM]
#
# Each sanitizer builds into its own folder (.build-asan, .build-tsan; git-ignored), so the plain debug
# build is untouched. A report fails the run: ASan and TSan end the test process with a non-zero status.
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
sanitizer=${1:?usage: scripts/sanitize.sh address|thread [swift test options]}
shift
case "$sanitizer" in
  address)
    export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1}"
    export LSAN_OPTIONS="suppressions=$root/scripts/lsan-suppressions.txt:print_suppressions=0${LSAN_OPTIONS:+:$LSAN_OPTIONS}"
    scratch=.build-asan ;;
  thread)
    scratch=.build-tsan ;;
  *) echo "unknown sanitizer '$sanitizer': use address or thread" >&2; exit 2 ;;
esac
cd "$root"
exec swift test --scratch-path "${SANITIZER_BUILD:-$scratch}" --sanitize="$sanitizer" "$@"
