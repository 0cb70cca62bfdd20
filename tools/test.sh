#!/usr/bin/env bash
# Installs what is missing, builds, and runs every test (ctest). GPU tests skip without a GPU.
set -euo pipefail
# Other arguments are ctest's (-L cpu, -R NAME): passed on as they are.
case "${1:-}" in
  -h|--help)
    cat <<'EOF'
usage: tools/test.sh [CTEST_ARGUMENTS...]   e.g. -L cpu, -L gpu, -L mpi, -R Sweep (see ctest --help)
Installs what is missing and builds (tools/build.sh, whose PDADMM_* settings apply), then runs the
tests with ctest --output-on-failure. GPU tests skip without a GPU.
  PDADMM_BUILD       build folder (default: the repository's build)
  PDADMM_DATA        data sets (default: shared/data beside the repository)
  PDADMM_SHARED      folder holding reference_vectors/ (default: shared beside the repository)
Relative paths in these settings are the caller's.
  PDADMM_TEST_JOBS   tests run at once (default 2)
  TEST_TMPDIR        the tests' output folder (default: a new one under $TMPDIR or /tmp, removed after)
EOF
    exit 0 ;;
esac
# Relative paths are the caller's: ctest runs each test in the build folder, where a relative
# PDADMM_DATA (../shared/data from the repository) skipped every real-data test without a word.
for v in PDADMM_BUILD PDADMM_DATA PDADMM_SHARED TEST_TMPDIR; do
  case ${!v:-} in ''|/*) ;; *) export "$v=$PWD/${!v}" ;; esac
done
cd "$(dirname "$0")/.."
tools/build.sh
BUILD=${PDADMM_BUILD:-build}
export PDADMM_DATA=${PDADMM_DATA:-$(cd .. && pwd)/shared/data}
# Without ../shared the reference-vector and real-data tests skip; say so after the summary.
SHARED=${PDADMM_SHARED:-$(cd .. && pwd)/shared}
missing=()
[ -d "$SHARED/reference_vectors" ] || missing+=("reference vectors ($SHARED/reference_vectors; set PDADMM_SHARED)")
[ -d "$PDADMM_DATA" ] || missing+=("data sets ($PDADMM_DATA; set PDADMM_DATA)")
# The tests' output folders (GoogleTest's TempDir) in a folder of this run's own: two suites on one
# machine (two checkouts, CI beside a developer) would otherwise meet in /tmp, where train's
# folder lock refuses the second run into a folder.
if [ -z "${TEST_TMPDIR:-}" ]; then
  TEST_TMPDIR=$(mktemp -d "${TMPDIR:-/tmp}/pdadmm-tests.XXXXXX")
  trap 'rm -rf "$TEST_TMPDIR"' EXIT
fi
export TEST_TMPDIR
ctest --test-dir "$BUILD" --output-on-failure --no-tests=error -j "${PDADMM_TEST_JOBS:-2}" "$@"
for m in ${missing[@]+"${missing[@]}"}; do echo "note: the tests that need the $m were skipped: not found"; done
