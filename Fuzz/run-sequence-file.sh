#!/bin/sh
# Builds the libFuzzer target for the JSON Lines / CSV sequence loader (address sanitizer on) and runs it.
#
#   Fuzz/run-sequence-file.sh [seconds] [more libFuzzer options]     default: 600 seconds
#
# The loader needs most of the Recur module (batches, networks' configurations, the kernels behind them), so
# the target is compiled from all of Sources/Recur with swiftc and the C kernels with clang, outside the
# Swift package: `swift build` and `swift test` are unaffected. New corpus entries go to
# $FUZZ_BUILD/sequence-corpus (default .build-fuzz/, git-ignored); the committed seeds in
# Fuzz/corpus/sequence-file are only read. The first byte of an input picks the format (bit 0: JSON Lines or
# CSV), the target kind (bits 1-2: inferred, values, classes, binary) and whether targets are required
# (bit 3 clear). A crashing input is saved as $FUZZ_BUILD/crash-<sha1>; add it as a regression test in
# Tests/RecurTests/Reliability/SequenceFileFuzzRegressionTests.swift.
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
build=${FUZZ_BUILD:-$root/.build-fuzz}
seconds=${1:-600}
[ $# -gt 0 ] && shift
kernels="$build/sequence-kernels"
mkdir -p "$build/sequence-corpus" "$kernels"
rm -f "$build/sequence-file-fuzz"

# The C kernels, as the package builds them, with the address sanitizer; a module map for `import _RecurKernels`.
for source in "$root"/Sources/_RecurKernels/*.c; do
  clang -c -O2 -g -fsanitize=address -D_GNU_SOURCE -I "$root/Sources/_RecurKernels/include" \
    "$source" -o "$kernels/$(basename "$source" .c).o"
done
cat >"$kernels/module.modulemap" <<EOF
module _RecurKernels {
  header "$root/Sources/_RecurKernels/include/recur_kernels.h"
  export *
}
EOF

swiftc -sanitize=fuzzer,address -parse-as-library -O -g \
  -module-name SequenceFileFuzz -I "$kernels" \
  $(find "$root/Sources/Recur" -name '*.swift' | sort) \
  "$root"/Fuzz/SequenceFileFuzzTarget.swift \
  "$kernels"/*.o -lm \
  -o "$build/sequence-file-fuzz" 2>&1 | grep -v "ld.gold: warning: Cannot export local symbol" || true
[ -x "$build/sequence-file-fuzz" ] || { echo "fuzz target failed to build" >&2; exit 1; }

exec "$build/sequence-file-fuzz" \
  -max_total_time="$seconds" -max_len=4096 -timeout=10 -rss_limit_mb=2048 \
  -dict="$root/Fuzz/sequence-file.dict" -artifact_prefix="$build/" -print_final_stats=1 \
  "$@" "$build/sequence-corpus" "$root/Fuzz/corpus/sequence-file"
