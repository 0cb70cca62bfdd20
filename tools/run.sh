#!/usr/bin/env bash
# Installs what is missing, builds, and trains on the default config: Cora when the real data
# is present (PDADMM_DATA or ../shared/data), else the embedded synthetic data set.
# Extra arguments go to `pdadmm train`, e.g. tools/run.sh --set groups=2
set -euo pipefail
cd "$(dirname "$0")/.."
PDADMM_TARGET=pdadmm tools/build.sh  # the tests are tools/test.sh's to build
BUILD=${PDADMM_BUILD:-build}
DATA=${PDADMM_DATA:-$(cd .. && pwd)/shared/data}
CONFIG=${PDADMM_CONFIG:-configs/synthetic.json}
if [ -z "${PDADMM_CONFIG:-}" ] && [ -f "$DATA/planetoid/ind.cora.graph" ] && [ -f configs/cora.json ]; then
  CONFIG=configs/cora.json
fi
echo "pdadmm: training with $CONFIG" >&2
PDADMM_DATA="$DATA" "$BUILD/pdadmm" train --config "$CONFIG" "$@"
