#!/usr/bin/env bash
# Installs the Debian packages pdadmm builds against, only those missing. Idempotent,
# non-interactive. Needs root (or sudo) only when something is missing.
# Beside the libraries: git names the build's commit (`pdadmm --version`; mpirun refuses processes
# of another commit) and python3 runs tools/*.py (sweep, plot, accuracy, bench_ab) and their tests;
# a fresh Debian has neither (tools/fresh_machine.sh).
set -euo pipefail
usage="tools/install_deps.sh takes no arguments"
case "${1:-}" in
  -h|--help)
    echo "usage: tools/install_deps.sh"
    echo "Installs the Debian packages pdadmm builds against that are missing (apt-get; root or sudo then)."
    exit 0 ;;
  -*) echo "error: unknown option $1 ($usage)" >&2; exit 1 ;;
esac
[ $# -eq 0 ] || { echo "error: unexpected argument $1 ($usage)" >&2; exit 1; }
PKGS=(cmake g++ make pkg-config git python3 libopenblas-dev nlohmann-json3-dev libcli11-dev libgtest-dev
      libzip-dev zlib1g-dev libopenmpi-dev openmpi-bin)
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "pdadmm: installing ${missing[*]}" >&2
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "error: missing packages ${missing[*]} and not root (no sudo)" >&2; exit 1; }
  SUDO="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
