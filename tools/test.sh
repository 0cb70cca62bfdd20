#!/usr/bin/env bash
# Installs what is missing, builds, and runs every test (ctest). GPU tests skip without a GPU.
set -euo pipefail
cd "$(dirname "$0")/.."
tools/build.sh
BUILD=${PDADMM_BUILD:-build}
export PDADMM_DATA=${PDADMM_DATA:-$(cd .. && pwd)/shared/data}
ctest --test-dir "$BUILD" --output-on-failure -j "${PDADMM_TEST_JOBS:-2}" "$@"
