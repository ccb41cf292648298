#!/usr/bin/env bash
# Set up and build as the quick start does, then run the whole test suite; then build the suite
# again with AddressSanitizer and UndefinedBehaviorSanitizer (build-asan) and run its fast tests
# under them. CODESIM_SANITIZERS=0 skips the second part (CI never does).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
jobs=$(nproc 2>/dev/null || echo 2)
ctest --test-dir build --output-on-failure --parallel "$jobs"

if [ "${CODESIM_SANITIZERS:-1}" != 0 ]; then
  echo "codesim test: the fast tests under AddressSanitizer and UndefinedBehaviorSanitizer (build-asan)"
  cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Release -DCODESIM_SANITIZE=ON \
    -DCODESIM_BUILD_BENCHMARKS=OFF -DCMAKE_CUDA_COMPILER=OFF >/dev/null
  cmake --build build-asan -j "$jobs"
  # The event-engine runs of DeepSeek-V3 on 2048 GPUs and Llama 3.1 on 16,384 (two examples, the
  # byte-identical default scenario, the calibrated step, the topology sweep, the killed sweep)
  # take half a minute to minutes each unsanitized, several times that under ASan; the build above
  # runs them. Every other test runs here, the other examples included.
  slow='/deepseek_v3_h800_2048$|/llama_3_1_405b_h100_16384|^DefaultScenario\.'
  slow+='|^CalibrationFile\.SlowerGemmsLengthenTheSimulatedStep$'
  slow+='|^Sweep\.TopologyExampleCutDownOnTheEventEngine$|^Sweep\.AKilledSweepLosesNoPointAndRedoesNone$'
  # OpenMPI frees nothing of its plugins at exit, so LeakSanitizer is off (the rest of ASan and
  # UBSan on) for the one test that runs sweeps under mpirun.
  mpi='^Sweep\.UnderMpirunTheRanksShareThePointsForTheSameTable$'
  export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
  ASAN_OPTIONS=detect_leaks=1 \
    ctest --test-dir build-asan --output-on-failure --parallel "$jobs" -E "$slow|$mpi"
  ASAN_OPTIONS=detect_leaks=0 ctest --test-dir build-asan --output-on-failure -R "$mpi"
fi
