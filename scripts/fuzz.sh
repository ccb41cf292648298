#!/usr/bin/env bash
# Fuzz every reader of user input (tests/fuzz/readers_fuzz.cpp) with libFuzzer for SECONDS
# (default 300), under AddressSanitizer and UndefinedBehaviorSanitizer.
#
#   scripts/fuzz.sh [SECONDS] [JOBS]
#
# Builds build-fuzz with clang, seeds a corpus from examples/, the bad-input corpus and
# tests/fuzz/seeds, and runs. Findings (crash-*, leak-*, timeout-*) land in build-fuzz/findings;
# a finding replays with build-fuzz/tests/fuzz/readers_fuzz FILE, and belongs, once fixed, in
# tests/fuzz/findings/.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-300}
jobs=${2:-1}
if ! command -v clang++ >/dev/null; then
  echo "codesim fuzz: clang++ is missing (Debian: apt-get install clang libclang-rt-dev)" >&2
  exit 2
fi
cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_COMPILER=clang++ \
  -DCODESIM_FUZZ=ON -DCODESIM_BUILD_TESTS=OFF -DCODESIM_BUILD_BENCHMARKS=OFF \
  -DCMAKE_CUDA_COMPILER=OFF >/dev/null
cmake --build build-fuzz --target readers_fuzz -j "$(nproc 2>/dev/null || echo 2)"

# The seed corpus: each file with its reader's selector byte in front (see readers_fuzz.cpp).
corpus=build-fuzz/corpus
mkdir -p "$corpus" build-fuzz/findings
seed() {  # seed READER FILE...
  local reader=$1
  shift
  for f in "$@"; do
    [ -f "$f" ] || continue
    { printf "\\$(printf '%03o' "$reader")"; cat "$f"; } >"$corpus/seed-$reader-$(basename "$f")"
  done
}
seed 0 examples/*.yaml tests/cli/bad_inputs/*.yaml
seed 1 examples/serve/*.yaml
seed 2 tests/fuzz/seeds/calibration/*
seed 3 examples/sweeps/*.yaml
seed 4 examples/topologies/*.yaml
seed 5 tests/fuzz/seeds/report/*
seed 6 tests/fuzz/seeds/sets/*
seed 7 tests/fuzz/seeds/counts/*
cp tests/fuzz/findings/* "$corpus"/ 2>/dev/null || true
rm -f "$corpus"/README.md

# A dictionary of YAML's tokens and codesim's keys helps the fuzzer build structure.
export ASAN_OPTIONS=detect_leaks=1:allocator_may_return_null=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
parallel=()
if [ "$jobs" -gt 1 ]; then parallel=(-jobs="$jobs" -workers="$jobs"); fi
cd build-fuzz  # libFuzzer's per-job logs (fuzz-N.log) land here
tests/fuzz/readers_fuzz corpus -max_total_time="$seconds" -timeout=20 -rss_limit_mb=4096 \
  -max_len=16384 -dict=../tests/fuzz/yaml.dict -artifact_prefix=findings/ -print_final_stats=1 \
  "${parallel[@]}"
