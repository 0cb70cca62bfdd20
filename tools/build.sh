#!/usr/bin/env bash
# Installs missing packages and builds pdadmm (Release) into ${PDADMM_BUILD:-build}.
# Used by tools/run.sh (PDADMM_TARGET=pdadmm: the CLI alone, not the tests) and tools/test.sh;
# idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."
tools/install_deps.sh
BUILD=${PDADMM_BUILD:-build}
JOBS=${PDADMM_JOBS:-$(nproc)}
args=(-DCMAKE_BUILD_TYPE=Release)
[ "${CI:-}" = "true" ] && args+=(-DPDADMM_WERROR=ON)
cmake -S . -B "$BUILD" "${args[@]}" ${PDADMM_CMAKE_ARGS:-} >/dev/null
cmake --build "$BUILD" -j "$JOBS" ${PDADMM_TARGET:+--target "$PDADMM_TARGET"}
