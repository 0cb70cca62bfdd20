#!/usr/bin/env bash
# Installs what is missing, builds, and trains on the default config: Cora when the real data
# is present (PDADMM_DATA or ../shared/data), else the embedded synthetic data set.
# Extra arguments go to `pdadmm train`, e.g. tools/run.sh --set groups=2
# pdadmm runs in the caller's folder: relative paths given (arguments, PDADMM_CONFIG, PDADMM_DATA,
# PDADMM_BUILD) are the caller's, as are the config's relative output.dir and data files.
set -euo pipefail
# Only a first -h/--help is this script's: anything else is pdadmm train's, as before.
case "${1:-}" in
  -h|--help)
    cat <<'EOF'
usage: tools/run.sh [PDADMM_TRAIN_ARGUMENTS...]   e.g. --set groups=2
Installs what is missing, builds pdadmm (tools/build.sh) and trains on the default config: Cora
when the real data is present, else the embedded synthetic data set. Relative paths are the caller's.
  PDADMM_BUILD   build folder (default: build)
  PDADMM_DATA    data sets (default: ../shared/data)
  PDADMM_CONFIG  config to train (default: configs/cora.json with the data, else configs/synthetic.json)
pdadmm train's own options: BUILD/pdadmm train --help (after a build).
EOF
    exit 0 ;;
esac
CALLER=$PWD
in_caller() { case $1 in /*) printf '%s\n' "$1" ;; *) printf '%s\n' "$CALLER/$1" ;; esac; }
cd "$(dirname "$0")/.."
ROOT=$PWD
BUILD=$(in_caller "${PDADMM_BUILD:-$ROOT/build}")
PDADMM_BUILD="$BUILD" PDADMM_TARGET=pdadmm tools/build.sh  # the tests are tools/test.sh's to build
DATA=$(in_caller "${PDADMM_DATA:-$(cd .. && pwd)/shared/data}")
CONFIG=$(in_caller "${PDADMM_CONFIG:-$ROOT/configs/synthetic.json}")
if [ -z "${PDADMM_CONFIG:-}" ] && [ -f "$DATA/planetoid/ind.cora.graph" ] && [ -f configs/cora.json ]; then
  CONFIG=$ROOT/configs/cora.json
fi
echo "pdadmm: training with $CONFIG" >&2
cd "$CALLER"
PDADMM_DATA="$DATA" "$BUILD/pdadmm" train --config "$CONFIG" "$@"
