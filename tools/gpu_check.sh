#!/usr/bin/env bash
# GPU check, for a machine WITH a GPU. Builds (Release, CUDA on) unless PDADMM_BUILD already holds
# a built pdadmm (e.g. a build carried from a machine with the -dev packages, see docs/cuda.md),
# then runs the GPU test binaries (the CPU-vs-GPU training equivalence included), the kernel /
# SGEMM / send-recv benchmark, `pdadmm train` on the CPU and the GPU with the same configs, and
# (where mpirun exists) two groups as two processes against one process on the CUDA backend.
# Everything lands in one JSON report, $OUT/gpu_check.json (OUT defaults to the current folder),
# plus the logs beside it. Exits non-zero if anything fails. Relative OUT and PDADMM_BUILD are the
# caller's; PDADMM_CONFIGS are the repository's.
#   PDADMM_BUILD       build folder (default: the repository's build-gpu)
#   PDADMM_CPU_ITERS   iterations of the CPU runs (default 3: the CPU is the slow side)
#   PDADMM_GPU_ITERS   iterations of the GPU runs (default 20)
#   PDADMM_CONFIGS     configs to time (default configs/synthetic_deep.json configs/gpu_16x4096.json)
#   PDADMM_STEP_TIMEOUT  seconds one step (a test binary, the benchmark, one run) may take (default 600):
#                      a hung kernel or transport fails that step instead of the whole check (SIGTERM,
#                      which a run answers by finishing its iteration, then SIGKILL 30 s later)
set -euo pipefail
usage="tools/gpu_check.sh takes no arguments; see --help for its settings"
case "${1:-}" in
  -h|--help)
    # The header comment above is the help: from its second line to the one before `set`.
    echo "usage: [OUT=DIR] [PDADMM_BUILD=DIR] tools/gpu_check.sh"
    sed -n '2,/^set -euo pipefail/{/^set /d;s/^# \{0,1\}//;p}' "$0"
    exit 0 ;;
  -*) echo "error: unknown option $1 ($usage)" >&2; exit 1 ;;
esac
[ $# -eq 0 ] || { echo "error: unexpected argument $1 ($usage)" >&2; exit 1; }
CALLER=$PWD
in_caller() { case $1 in /*) printf '%s\n' "$1" ;; *) printf '%s\n' "$CALLER/$1" ;; esac; }
cd "$(dirname "$0")/.."
BUILD=build-gpu
[ -n "${PDADMM_BUILD:-}" ] && BUILD=$(in_caller "$PDADMM_BUILD")
JOBS=${PDADMM_JOBS:-$(nproc)}
OUT_DIR=$(in_caller "${OUT:-.}")
CPU_ITERS=${PDADMM_CPU_ITERS:-3}
GPU_ITERS=${PDADMM_GPU_ITERS:-20}
STEP=${PDADMM_STEP_TIMEOUT:-600}
read -r -a CONFIGS <<<"${PDADMM_CONFIGS:-configs/synthetic_deep.json configs/gpu_16x4096.json}"

if ! command -v nvidia-smi >/dev/null || ! nvidia-smi -L; then
  echo "gpu_check: no GPU visible (nvidia-smi missing or failing); run tools/test.sh on machines without one" >&2
  exit 1
fi
mkdir -p "$OUT_DIR"
OUT_DIR=$(cd "$OUT_DIR" && pwd)

# A carried build brings the reference vectors beside it (tools/carry_build.sh).
if [ -n "${PDADMM_SHARED:-}" ]; then
  PDADMM_SHARED=$(in_caller "$PDADMM_SHARED")
  export PDADMM_SHARED
elif [ -f "$BUILD/../shared/reference_vectors/pdadmm_reference.json" ]; then
  PDADMM_SHARED=$(cd "$BUILD/../shared" && pwd)
  export PDADMM_SHARED
fi
# A carried build brings its shared libraries in $BUILD/lib (docs/cuda.md).
if [ -d "$BUILD/lib" ]; then
  lib_dir=$(cd "$BUILD/lib" && pwd)
  export LD_LIBRARY_PATH="$lib_dir${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
fi

if [ -x "$BUILD/pdadmm" ] && [ -x "$BUILD/pdadmm_gpu_bench" ]; then
  echo "gpu_check: using the prebuilt $BUILD (no configure, no build)"
  # tools/carry_build.sh leaves the CUDA libraries out: take this machine's own (its toolkit, or the
  # NVIDIA wheels beside PyTorch), found by name.
  for lib in $(for b in "$BUILD"/pdadmm "$BUILD"/libpdadmm_cuda.so "$BUILD"/pdadmm_gpu_bench "$BUILD"/cuda_*_test; do
                 ldd "$b" 2>/dev/null; done |
               awk '/not found/ {print $1}' | sort -u); do
    found=$(find /usr/local/cuda/ /usr/local /opt /usr/lib /usr/lib64 -name "$lib" 2>/dev/null | head -n 1)
    if [ -n "$found" ]; then
      echo "gpu_check: $lib from $found"
      found_dir=$(dirname "$found")
      export LD_LIBRARY_PATH="$found_dir${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
    fi
  done
  missing=$(ldd "$BUILD/pdadmm" "$BUILD/libpdadmm_cuda.so" | awk '/not found/ {print $1}' | sort -u | tr '\n' ' ')
  if [ -n "$missing" ]; then
    echo "gpu_check: $BUILD/pdadmm needs libraries this machine lacks: $missing(copy them into $BUILD/lib)" >&2
    exit 1
  fi
else
  # No install step here: GPU machines may have no network. tools/install_deps.sh lists the packages.
  # shellcheck disable=SC2086  # PDADMM_CMAKE_ARGS is a word list on purpose
  if ! cmake -S . -B "$BUILD" -DCMAKE_BUILD_TYPE=Release -DPDADMM_CUDA=ON ${PDADMM_CMAKE_ARGS:-} >"$OUT_DIR/gpu_configure.log" 2>&1; then
    tail -n 30 "$OUT_DIR/gpu_configure.log" >&2
    echo "gpu_check: configure failed (missing packages? see tools/install_deps.sh, or carry a build: docs/cuda.md)" >&2
    exit 1
  fi
  cmake --build "$BUILD" -j "$JOBS"
fi
nvidia-smi --query-gpu=index,name,memory.total,driver_version --format=csv >"$OUT_DIR/gpu_devices.csv" || true

status=0

# ---- GPU test binaries, run directly (ctest files hold absolute paths of the build machine) ----
tests_json=""
for t in "$BUILD"/cuda_*_test; do
  [ -x "$t" ] || continue
  name=$(basename "$t")
  if timeout -k 30 "$STEP" "$t" --gtest_output="xml:$OUT_DIR/$name.xml" >"$OUT_DIR/$name.log" 2>&1; then result=passed; else result=failed; status=1; fi
  skipped=$(grep -c 'result="skipped"' "$OUT_DIR/$name.xml" 2>/dev/null || true)
  skipped=${skipped:-0}
  echo "gpu_check: $name $result ($skipped skipped)"
  tests_json+="${tests_json:+, }\"$name\": {\"result\": \"$result\", \"skipped\": $skipped}"
done

# ---- kernels, SGEMM, send/recv between GPUs ----
rm -f "$OUT_DIR/gpu_bench.json"  # an earlier run's must not pass for this one's
# shellcheck disable=SC2086  # PDADMM_BENCH_ARGS is a word list on purpose
if ! timeout -k 30 "$STEP" "$BUILD/pdadmm_gpu_bench" --out "$OUT_DIR/gpu_bench.json" ${PDADMM_BENCH_ARGS:-} | tee "$OUT_DIR/gpu_bench.log" ||
    [ ! -s "$OUT_DIR/gpu_bench.json" ]; then
  status=1
  echo 'null' >"$OUT_DIR/gpu_bench.json"
fi

# ---- seconds per iteration, CPU and GPU, same config ----
# Prints the value of a top-level number in a pretty-printed JSON file (summary.json).
json_number() { sed -n "s/^  \"$2\": \([-0-9.eE+]*\),\{0,1\}$/\1/p" "$1" | head -n 1; }
training_json=""
for cfg in "${CONFIGS[@]}"; do
  name=$(basename "$cfg" .json)
  declare -A per_iter=()
  entry=""
  for backend in cpu cuda; do
    iters=$CPU_ITERS
    [ "$backend" = cuda ] && iters=$GPU_ITERS
    run_dir="$OUT_DIR/train_${name}_$backend"
    if timeout -k 30 "$STEP" "$BUILD/pdadmm" train --config "$cfg" --out "$run_dir" --set "backend=\"$backend\"" \
        --set "admm.iterations=$iters" --set "output.log_every=$iters" --set output.progress=off \
        --set output.checkpoint=false --set output.state=false >"$run_dir.log" 2>&1; then
      per_iter[$backend]=$(json_number "$run_dir/summary.json" seconds_per_iter_median)
      last_metrics=$(tail -n 1 "$run_dir/metrics.jsonl")
      entry+="${entry:+, }\"$backend\": {\"summary\": $(cat "$run_dir/summary.json"), \"last_metrics\": $last_metrics}"
      echo "gpu_check: $name on $backend: ${per_iter[$backend]} s/iteration (median of $iters)"
    else
      status=1
      tail -n 5 "$run_dir.log" >&2
      entry+="${entry:+, }\"$backend\": null"
    fi
  done
  speedup=null
  if [ -n "${per_iter[cpu]:-}" ] && [ -n "${per_iter[cuda]:-}" ]; then
    speedup=$(awk -v c="${per_iter[cpu]}" -v g="${per_iter[cuda]}" 'BEGIN { if (g > 0) printf "%.2f", c / g; else print "null" }')
    echo "gpu_check: $name GPU speed-up per iteration: $speedup x"
  fi
  training_json+="${training_json:+, }\"$name\": {$entry, \"speedup\": $speedup}"
  unset per_iter
done

# ---- mpirun, one process per group on the CUDA backend (messages staged through host memory) ----
# Two groups as two processes against the same groups as one process: the weights must agree bit
# for bit (the same kernels on the same GPU). Skipped where mpirun or an MPI build is missing.
mpi_json='"skipped: no mpirun on this machine (tools/carry_mpi.sh carries one)"'
mpirun_cmd=""
if command -v mpirun >/dev/null; then
  mpirun_cmd=mpirun
elif [ -x "$BUILD/mpi/usr/bin/orterun" ]; then  # unpacked by tools/carry_mpi.sh
  mpi_prefix=$(cd "$BUILD/mpi/usr" && pwd)
  export OPAL_PREFIX="$mpi_prefix" PATH="$mpi_prefix/bin:$PATH"
  export LD_LIBRARY_PATH="$mpi_prefix/lib/x86_64-linux-gnu:$mpi_prefix/lib/x86_64-linux-gnu/openmpi/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
  mpirun_cmd=orterun
fi
if [ -n "$mpirun_cmd" ]; then
  # Two processes on one GPU can only share it through host memory (NCCL wants a GPU per rank).
  mpi_kind=staged
  [ "$(nvidia-smi -L | grep -c '^GPU')" -ge 2 ] && mpi_kind=nccl
  mpi_args=(train --config configs/synthetic_deep.json --set groups=2 --set 'backend="cuda"' --set admm.iterations=20
            --set "cuda.processes=\"$mpi_kind\"" --set output.log_every=20 --set output.progress=off
            --set output.state=false --out "$OUT_DIR/mpi_cuda")
  if timeout -k 30 "$STEP" "$BUILD/pdadmm" "${mpi_args[@]}" >"$OUT_DIR/mpi_cuda_threads.log" 2>&1 &&
      cp "$OUT_DIR/mpi_cuda/model.bin" "$OUT_DIR/mpi_cuda_threads.bin" &&
      OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 timeout -k 30 "$STEP" "$mpirun_cmd" --oversubscribe -np 2 \
        "$BUILD/pdadmm" "${mpi_args[@]}" >"$OUT_DIR/mpi_cuda_processes.log" 2>&1; then
    same=false
    cmp -s "$OUT_DIR/mpi_cuda/model.bin" "$OUT_DIR/mpi_cuda_threads.bin" && same=true
    [ "$same" = true ] || status=1
    mpi_json="{\"transport\": \"$mpi_kind\", \"bit_identical\": $same, \"processes_summary\": $(cat "$OUT_DIR/mpi_cuda/summary.json")}"
    echo "gpu_check: mpirun -np 2 on the CUDA backend ($mpi_kind): weights bit-identical to one process: $same"
  else
    status=1
    tail -n 5 "$OUT_DIR/mpi_cuda_threads.log" "$OUT_DIR/mpi_cuda_processes.log" >&2 || true
    mpi_json='"failed: see mpi_cuda_*.log"'
  fi
fi

{
  echo "{"
  echo "  \"tests\": {$tests_json},"
  echo "  \"mpirun_cuda\": $mpi_json,"
  echo "  \"bench\": $(cat "$OUT_DIR/gpu_bench.json"),"
  echo "  \"training\": {$training_json},"
  echo "  \"ok\": $([ $status -eq 0 ] && echo true || echo false)"
  echo "}"
} >"$OUT_DIR/gpu_check.json"
echo "gpu_check: report in $OUT_DIR/gpu_check.json"

if [ $status -eq 0 ]; then echo "gpu_check: OK"; else echo "gpu_check: FAILED" >&2; fi
exit $status
