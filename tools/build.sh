#!/usr/bin/env bash
# Installs missing packages and builds pdadmm (Release) into ${PDADMM_BUILD:-build}.
# Used by tools/run.sh (PDADMM_TARGET=pdadmm: the CLI alone, not the tests) and tools/test.sh;
# idempotent.
set -euo pipefail
usage="tools/build.sh takes no arguments; see --help for its settings"
case "${1:-}" in
  -h|--help)
    cat <<'EOF'
usage: tools/build.sh
Installs the missing Debian packages (tools/install_deps.sh) and builds pdadmm (Release); idempotent.
  PDADMM_BUILD       build folder (default: the repository's build; a relative one is the caller's)
  PDADMM_CMAKE_ARGS  extra cmake arguments, e.g. -DPDADMM_CUDA=OFF
  PDADMM_TARGET      build only this target (tools/run.sh: pdadmm)
  PDADMM_JOBS        parallel build jobs (default: nproc)
  CI=true            compiler warnings are errors (-DPDADMM_WERROR=ON)
EOF
    exit 0 ;;
  -*) echo "error: unknown option $1 ($usage)" >&2; exit 1 ;;
esac
# An argument was ignored: `tools/build.sh build-cpu` built into build.
[ $# -eq 0 ] || { echo "error: unexpected argument $1 ($usage)" >&2; exit 1; }
# A relative PDADMM_BUILD is the caller's, as in every tools/ script.
case ${PDADMM_BUILD:-} in ''|/*) ;; *) PDADMM_BUILD=$PWD/$PDADMM_BUILD ;; esac
cd "$(dirname "$0")/.."
tools/install_deps.sh
BUILD=${PDADMM_BUILD:-build}
JOBS=${PDADMM_JOBS:-$(nproc)}
args=(-DCMAKE_BUILD_TYPE=Release)
[ "${CI:-}" = "true" ] && args+=(-DPDADMM_WERROR=ON)
cmake -S . -B "$BUILD" "${args[@]}" ${PDADMM_CMAKE_ARGS:-} >/dev/null
cmake --build "$BUILD" -j "$JOBS" ${PDADMM_TARGET:+--target "$PDADMM_TARGET"}
