#!/usr/bin/env bash
# GPU check, for a machine WITH a GPU: configures and builds (Release, CUDA on) if needed, runs
# the GPU-labelled tests, then the kernel / SGEMM benchmark, whose JSON report goes to
# $OUT/gpu_check.json when OUT is set, else ./gpu_check.json. Exits non-zero if anything fails.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${PDADMM_BUILD:-build-gpu}
JOBS=${PDADMM_JOBS:-$(nproc)}
OUT_DIR=${OUT:-.}
mkdir -p "$OUT_DIR"

if ! command -v nvidia-smi >/dev/null || ! nvidia-smi -L; then
  echo "gpu_check: no GPU visible (nvidia-smi missing or failing); run tools/test.sh on machines without one" >&2
  exit 1
fi

# No install step here: GPU machines may have no network. tools/install_deps.sh lists the packages.
# shellcheck disable=SC2086  # PDADMM_CMAKE_ARGS / PDADMM_BENCH_ARGS are word lists on purpose
if ! cmake -S . -B "$BUILD" -DCMAKE_BUILD_TYPE=Release -DPDADMM_CUDA=ON ${PDADMM_CMAKE_ARGS:-} >"$OUT_DIR/gpu_configure.log" 2>&1; then
  tail -n 30 "$OUT_DIR/gpu_configure.log" >&2
  echo "gpu_check: configure failed (missing packages? see tools/install_deps.sh)" >&2
  exit 1
fi
cmake --build "$BUILD" -j "$JOBS"

status=0
ctest --test-dir "$BUILD" -L gpu --output-on-failure --output-junit "$(cd "$OUT_DIR" && pwd)/gpu_tests.xml" || status=1

# shellcheck disable=SC2086
"$BUILD/pdadmm_gpu_bench" --out "$OUT_DIR/gpu_check.json" ${PDADMM_BENCH_ARGS:-} || status=1

# The lead adds CPU-vs-GPU training equivalence here once the trainer takes "backend": "cuda".
[ $status -eq 0 ] && echo "gpu_check: OK" || echo "gpu_check: FAILED" >&2
exit $status
