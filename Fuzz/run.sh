#!/bin/sh
# Builds the libFuzzer target for the safetensors loader (address sanitizer on) and runs it.
#
#   Fuzz/run.sh [seconds] [more libFuzzer options]     default: 600 seconds
#
# The target is compiled straight from the loader's sources with swiftc, outside the Swift package, so
# `swift build` and `swift test` are unaffected. New corpus entries go to $FUZZ_BUILD/corpus (default
# .build-fuzz/, git-ignored); the committed seeds in Fuzz/corpus/safetensors are only read. A crashing
# input is saved as $FUZZ_BUILD/crash-<sha1>; add it as a regression test in
# Tests/RecurTests/Interchange/SafeTensorsFuzzRegressionTests.swift.
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
build=${FUZZ_BUILD:-$root/.build-fuzz}
seconds=${1:-600}
[ $# -gt 0 ] && shift
mkdir -p "$build/corpus"
rm -f "$build/safetensors-fuzz"

swiftc -sanitize=fuzzer,address -parse-as-library -O -g \
  -module-name SafeTensorsFuzz \
  "$root"/Sources/Recur/Interchange/SafeTensorsError.swift \
  "$root"/Sources/Recur/Interchange/SafeTensorsJSON.swift \
  "$root"/Sources/Recur/Interchange/SafeTensorsDType.swift \
  "$root"/Sources/Recur/Interchange/SafeTensorsFile.swift \
  "$root"/Sources/Recur/Interchange/SafeTensorsFile+Values.swift \
  "$root"/Sources/Recur/Interchange/AtomicFile.swift \
  "$root"/Fuzz/SafeTensorsFuzzTarget.swift \
  -o "$build/safetensors-fuzz" 2>&1 | grep -v "ld.gold: warning: Cannot export local symbol" || true
[ -x "$build/safetensors-fuzz" ] || { echo "fuzz target failed to build" >&2; exit 1; }

exec "$build/safetensors-fuzz" \
  -max_total_time="$seconds" -max_len=8192 -timeout=10 -rss_limit_mb=2048 \
  -dict="$root/Fuzz/safetensors.dict" -artifact_prefix="$build/" -print_final_stats=1 \
  "$@" "$build/corpus" "$root/Fuzz/corpus/safetensors"
