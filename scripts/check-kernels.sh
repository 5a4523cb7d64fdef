#!/usr/bin/env bash
# Checks every vectorized kernel table against the scalar table with the kernels' own harness
# (Tests/KernelHarness/kernel_harness.c, which names its tolerances):
#   native   built with clang for this machine: the AVX2+FMA table on x86_64 (required when the CPU has
#            AVX2 and FMA), the NEON table on arm64; then again under the address sanitizer;
#   arm64    cross-built for aarch64 Linux with clang and with aarch64-linux-gnu-gcc and run under
#            qemu-aarch64: the NEON table (required), on x86_64 hosts only.
# Each build also checks the dispatch: RECUR_ISA unset, =scalar and =avx2/neon pick the table they should.
# Installs what is missing (gcc-aarch64-linux-gnu, libc6-dev-arm64-cross, qemu-user) with apt-get.
#
#   scripts/check-kernels.sh [native|arm64|all]     (default all; exits non-zero on the first failure)
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
which=${1:-all}
kernels=$root/Sources/_RecurKernels
harness=$root/Tests/KernelHarness/kernel_harness.c
out=$root/.build-kernels
mkdir -p "$out"
flags=(-std=c11 -O2 -D_GNU_SOURCE -Wall -Wextra -I"$kernels" -I"$kernels/include")
sources=("$kernels"/*.c "$harness")

# Runs the harness binary ($2 ... : the command prefix, e.g. qemu) for the vector table $1.
run_checks() {
  local isa=$1 require=()
  shift
  [ "$isa" != scalar ] && require=(--require "$isa")
  "$@" "${require[@]}"
  RECUR_ISA=scalar "$@" --expect scalar
  env -u RECUR_ISA "$@" --expect "$isa"
  RECUR_ISA="$isa" "$@" --expect "$isa"
}

native() {
  local cc=${CC:-clang}
  command -v "$cc" > /dev/null || { echo "error: $cc not found (set CC to a C compiler)" >&2; exit 1; }
  local isa=scalar
  case "$(uname -m)" in
    x86_64 | amd64)
      if grep -qw avx2 /proc/cpuinfo 2> /dev/null && grep -qw fma /proc/cpuinfo 2> /dev/null; then isa=avx2; fi ;;
    aarch64 | arm64) isa=neon ;;
  esac
  echo "--> native ($(uname -m), $cc; vector table expected: $isa)"
  "$cc" "${flags[@]}" "${sources[@]}" -o "$out/kernel_harness" -lm -pthread
  run_checks "$isa" "$out/kernel_harness"
  # Once more under the address sanitizer: reads and writes out of bounds, and memory leaked, for example
  # the scratch buffers of a thread that has ended. (The harness asks for 2^62 bytes on purpose.)
  echo "--> native under the address sanitizer"
  if ! "$cc" "${flags[@]}" -O1 -g -fsanitize=address "${sources[@]}" -o "$out/kernel_harness-asan" -lm -pthread \
    2> "$out/kernel_harness-asan.log"; then
    cat "$out/kernel_harness-asan.log" >&2
    exit 1
  fi
  ASAN_OPTIONS=allocator_may_return_null=1:detect_leaks=1 "$out/kernel_harness-asan" 2>&1 |
    grep -v "failed to allocate 0x4000000000000000 bytes"
}

install_arm64_tools() {
  local missing=()
  command -v qemu-aarch64 > /dev/null || missing+=(qemu-user)
  command -v aarch64-linux-gnu-gcc > /dev/null || missing+=(gcc-aarch64-linux-gnu)
  [ -e /usr/aarch64-linux-gnu/lib/libc.so.6 ] || missing+=(libc6-dev-arm64-cross)
  [ ${#missing[@]} -eq 0 ] && return
  echo "--> installing ${missing[*]}"
  local sudo=()
  [ "$(id -u)" -ne 0 ] && sudo=(sudo)
  "${sudo[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
}

arm64() {
  case "$(uname -m)" in
    x86_64 | amd64) ;;
    *) echo "--> arm64 under qemu: skipped (not an x86_64 host; the native run covers this machine)"; return ;;
  esac
  install_arm64_tools
  local qemu=(timeout 900 qemu-aarch64 -L /usr/aarch64-linux-gnu)
  # clang, the compiler SwiftPM uses (it finds the cross GCC's libraries); then GCC, whose default
  # -ffp-contract=fast fuses the scalar twins differently.
  local built=0
  if command -v clang > /dev/null && clang --target=aarch64-linux-gnu "${flags[@]}" "${sources[@]}" \
    -o "$out/kernel_harness-arm64-clang" -lm -pthread; then
    echo "--> arm64 (clang --target=aarch64-linux-gnu, qemu-aarch64)"
    run_checks neon "${qemu[@]}" "$out/kernel_harness-arm64-clang"
    built=1
  fi
  aarch64-linux-gnu-gcc "${flags[@]}" "${sources[@]}" -o "$out/kernel_harness-arm64-gcc" -lm -pthread
  echo "--> arm64 (aarch64-linux-gnu-gcc, qemu-aarch64)"
  run_checks neon "${qemu[@]}" "$out/kernel_harness-arm64-gcc"
  [ $built -eq 1 ] || echo "note: clang could not cross-build for aarch64; checked the GCC build only"
}

case "$which" in
  native) native ;;
  arm64) arm64 ;;
  all) native; arm64 ;;
  *) echo "usage: scripts/check-kernels.sh [native|arm64|all]" >&2; exit 2 ;;
esac
echo "--> kernel checks passed"
