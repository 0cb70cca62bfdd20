#!/usr/bin/env bash
# Fuzzes the data readers and the config path: builds the libFuzzer targets in tools/fuzz/ with clang
# (-fsanitize=fuzzer,address,undefined) straight from the project sources (fuzz_pickle: the
# unpickler; fuzz_npy: .npy, and .npz through libzip up to a split Dataset; fuzz_planetoid: a whole
# Planetoid load; fuzz_config: a config with --set overrides through validation and info's plan;
# fuzz_files: a user's edge list, features and labels up to a split Dataset; fuzz_model: model.bin
# and state.bin as eval, export and --resume load them, a loaded model exported to .npz),
# seeds each corpus from the real data files, tools/fuzz/seeds.py's synthetic sets and configs/,
# runs each target FUZZ_SECONDS (default 60) and prints executions, coverage and findings.
# Exits 1 when a target found a crash, hang, leak or sanitizer report.
#   env: FUZZ_SECONDS, PDADMM_DATA (data root, default ../shared/data), FUZZ_OUT (default build-fuzz),
#        FUZZ_TARGETS (default "pickle npy planetoid config files model"),
#        FUZZ_LINK_CHECK=1: only compile and link the targets (-O0, no ASan/UBSan, nothing installed;
#        exit 77 where clang++, its libFuzzer runtime or libzip is missing): FuzzTargets.LinkWithClang
set -euo pipefail
# Exit 2 for a refusal, as for a missing tool below: 1 means a finding.
usage="tools/fuzz.sh takes no arguments; see --help for its settings"
case "${1:-}" in
  -h|--help)
    cat <<'EOF'
usage: tools/fuzz.sh
Builds the libFuzzer targets in tools/fuzz/ with clang (installing clang, libclang-rt-*-dev and
libzip-dev where missing), seeds their corpora and runs each; exit 1 when a target found a crash,
hang, leak or sanitizer report, 2 when it cannot run.
  FUZZ_SECONDS     seconds per target (default 60)
  FUZZ_TARGETS     targets to run (default "pickle npy planetoid config files model")
  FUZZ_OUT         build and corpus folder (default: the repository's build-fuzz)
  PDADMM_DATA      data root for the seeds (default ../shared/data)
  FUZZ_LINK_CHECK  1: only compile and link the targets (exit 77 where a tool is missing)
EOF
    exit 0 ;;
  -*) echo "error: unknown option $1 ($usage)" >&2; exit 2 ;;
esac
[ $# -eq 0 ] || { echo "error: unexpected argument $1 ($usage)" >&2; exit 2; }
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
DATA=${PDADMM_DATA:-$ROOT/../shared/data}
SECS=${FUZZ_SECONDS:-60}
OUT=${FUZZ_OUT:-$ROOT/build-fuzz}
mkdir -p "$OUT"

# ---- clang with the libFuzzer runtime (Debian: clang, libclang-rt-14-dev) ----
apt_install() {
  local sudo=""
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null || { echo "fuzz.sh: need root or sudo to install $*" >&2; exit 2; }
    sudo="sudo"
  fi
  echo "fuzz.sh: installing $*" >&2
  DEBIAN_FRONTEND=noninteractive $sudo apt-get update -qq &&
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "$@" >/dev/null ||
    { echo "fuzz.sh: installing $* failed" >&2; return 2; }
}
fuzzer_works() {
  printf 'extern "C" int LLVMFuzzerTestOneInput(const unsigned char*, unsigned long){return 0;}\n' \
    >"$OUT/probe.cpp"
  clang++ -fsanitize=fuzzer,address,undefined "$OUT/probe.cpp" -o "$OUT/probe" >/dev/null 2>&1
}
LINK_CHECK=${FUZZ_LINK_CHECK:-0}
if [ "$LINK_CHECK" = 1 ]; then  # a test: install nothing, skip (77) where a tool is missing
  command -v clang++ >/dev/null || { echo "fuzz.sh: no clang++: link check skipped" >&2; exit 77; }
  fuzzer_works || { echo "fuzz.sh: clang++ cannot link -fsanitize=fuzzer: link check skipped" >&2; exit 77; }
  pkg-config --exists libzip 2>/dev/null || { echo "fuzz.sh: no libzip: link check skipped" >&2; exit 77; }
fi
command -v clang++ >/dev/null || apt_install clang || exit 2
if ! fuzzer_works; then
  ver=$(clang++ --version | sed -n 's/.*clang version \([0-9]*\).*/\1/p' | head -1)
  apt_install "libclang-rt-${ver:-14}-dev" || true
  fuzzer_works || { echo "fuzz.sh: clang++ cannot link -fsanitize=fuzzer (libclang-rt-*-dev missing)" >&2; exit 2; }
fi
pkg-config --exists libzip 2>/dev/null || apt_install libzip-dev pkg-config || exit 2

# ---- build ----
SRCS=("$ROOT/host/data/pickle.cpp" "$ROOT/host/data/npz.cpp" "$ROOT/host/data/gnn_benchmark.cpp" "$ROOT/host/data/csr.cpp"
      "$ROOT/host/data/dataset.cpp" "$ROOT/host/data/planetoid.cpp")
# fuzz_config also links the config reader and the shape-only planning (no solver, no BLAS).
CONFIG_SRCS=(config/config.cpp config/json_reader.cpp quant/grid_config.cpp quant/grid.cpp quant/wire.cpp
             data/load_real.cpp data/sha256.cpp admm/plan.cpp admm/layer_plan.cpp admm/state_plan.cpp comm/single_process.cpp
             comm/processes_env.cpp comm/cpu_load.cpp io/host_memory.cpp io/files.cpp)
# fuzz_files also links the text parsers and what they share with the config path.
FILES_SRCS=(data/own_files.cpp data/sha256.cpp io/files.cpp)
# fuzz_model: the framed files' readers and the .npz writer.
MODEL_SRCS=(io/checkpoint.cpp io/state_file.cpp io/framed_file.cpp io/files.cpp io/npz_writer.cpp config/json_reader.cpp)
read -r -a KINDS <<<"${FUZZ_TARGETS:-pickle npy planetoid config files model}"  # target fuzz_KIND, KIND.dict, corpus/KIND
for kind in "${KINDS[@]}"; do
  [ -f "$ROOT/tools/fuzz/fuzz_$kind.cpp" ] ||
    { echo "error: FUZZ_TARGETS: no target '$kind' (tools/fuzz/fuzz_$kind.cpp; default: pickle npy planetoid config files model)" >&2; exit 2; }
done
FLAGS=(-std=c++17 -g -O1 -fno-omit-frame-pointer -fsanitize=fuzzer,address,undefined
       -fno-sanitize-recover=all -I"$ROOT")
[ "$LINK_CHECK" = 1 ] && FLAGS=(-std=c++17 -O0 -fsanitize=fuzzer -I"$ROOT")  # what links, quickly
read -r -a ZIPFLAGS <<<"$(pkg-config --cflags --libs libzip)"
for kind in "${KINDS[@]}"; do
  t=fuzz_$kind
  echo "fuzz.sh: building $t" >&2
  extra=()
  if [ "$kind" = config ]; then for f in "${CONFIG_SRCS[@]}"; do extra+=("$ROOT/host/$f"); done; fi
  if [ "$kind" = files ]; then for f in "${FILES_SRCS[@]}"; do extra+=("$ROOT/host/$f"); done; fi
  if [ "$kind" = model ]; then for f in "${MODEL_SRCS[@]}"; do extra+=("$ROOT/host/$f"); done; fi
  clang++ "${FLAGS[@]}" "$ROOT/tools/fuzz/$t.cpp" "${SRCS[@]}" ${extra[@]+"${extra[@]}"} "${ZIPFLAGS[@]}" -lz -pthread \
    -o "$OUT/$t" || { echo "fuzz.sh: building $t failed (above)" >&2; exit 2; }
done
if [ "$LINK_CHECK" = 1 ]; then
  echo "fuzz.sh: ${KINDS[*]}: every target links"
  exit 0
fi

# ---- seed corpora: the real files where small, plus synthetic inputs that load completely ----
SEEDS="$OUT/seeds"
rm -rf "$SEEDS"
mkdir -p "$OUT/artifacts"
for kind in "${KINDS[@]}"; do mkdir -p "$SEEDS/$kind" "$OUT/corpus/$kind"; done
command -v python3 >/dev/null || { echo "fuzz.sh: python3 is needed for the seed corpora" >&2; exit 2; }
python3 "$ROOT/tools/fuzz/seeds.py" "$DATA" "$SEEDS" || { echo "fuzz.sh: the seed corpora failed (above)" >&2; exit 2; }
# Findings of earlier runs are kept in artifacts/old/: only this run's count (a fixed crash's file
# failed every later run, and a run of one target failed on another's).
mkdir -p "$OUT/artifacts/old"
for kind in "${KINDS[@]}"; do
  for f in "$OUT"/artifacts/fuzz_"$kind"-*; do if [ -e "$f" ]; then mv "$f" "$OUT/artifacts/old/"; fi; done
done

# ---- run ----
status=0
for kind in "${KINDS[@]}"; do
  t=fuzz_$kind
  log="$OUT/$t.log"
  echo "fuzz.sh: running $t for ${SECS}s" >&2
  set +e
  "$OUT/$t" "$OUT/corpus/$kind" "$SEEDS/$kind" -max_total_time="$SECS" -max_len=65536 -timeout=10 \
    -rss_limit_mb=2048 -dict="$ROOT/tools/fuzz/$kind.dict" -print_final_stats=1 \
    -artifact_prefix="$OUT/artifacts/$t-" >"$log" 2>&1
  rc=$?
  set -e
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  findings=$(grep -cE '^==[0-9]+==ERROR|runtime error:|deadly signal|ERROR: libFuzzer' "$log" || true)
  last=$(grep -E '^#[0-9]+.*cov: ' "$log" | tail -1 | grep -oE 'cov: [0-9]+ ft: [0-9]+' || true)
  echo "$t: executions=${execs:-?} ${last:-cov: ?} corpus=$(ls "$OUT/corpus/$kind" | wc -l) exit=$rc findings=$findings"
  if [ "$rc" -ne 0 ] || [ "$findings" -ne 0 ]; then
    status=1
    grep -E 'ERROR|runtime error|SUMMARY|Test unit written' "$log" | head -20 || true
  fi
done
shopt -s nullglob
arts=()
for kind in "${KINDS[@]}"; do arts+=("$OUT"/artifacts/fuzz_"$kind"-*); done
if [ ${#arts[@]} -gt 0 ]; then
  echo "findings (reproduce: $OUT/<target> <file>):"
  printf '  %s\n' "${arts[@]}"
  status=1
fi
exit $status
