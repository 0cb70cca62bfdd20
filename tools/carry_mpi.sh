#!/usr/bin/env bash
# Unpacks Open MPI's runtime (Debian packages, no root needed to unpack) into DEST so that a build
# carried to a machine without Open MPI (the GPU machine: docs/cuda.md) can run under mpirun.
# tools/gpu_check.sh finds it in $PDADMM_BUILD/mpi and sets OPAL_PREFIX, PATH and LD_LIBRARY_PATH.
#   tools/carry_mpi.sh [DEST]     DEST defaults to $PDADMM_BUILD/mpi, else the repository's build-gpu/mpi
#                                 (relative paths are the caller's)
# Needs apt-get (Debian's package index, `apt-get update` done) on this machine.
set -euo pipefail
usage="tools/carry_mpi.sh [DEST]"
case "${1:-}" in
  -h|--help)
    echo "usage: $usage"
    sed -n '2,/^set -euo pipefail/{/^set /d;s/^# \{0,1\}//;p}' "$0"
    exit 0 ;;
  -*) echo "error: unknown option $1 ($usage)" >&2; exit 1 ;;  # else it would be DEST: mkdir -p --help
esac
[ $# -le 1 ] || { echo "error: one folder at most, got $# arguments ($usage)" >&2; exit 1; }
# DEST and PDADMM_BUILD relative to the caller's folder, as the other tools take them.
CALLER=$PWD
in_caller() { case $1 in /*) printf '%s\n' "$1" ;; *) printf '%s\n' "$CALLER/$1" ;; esac; }
if [ -n "${1:-}" ]; then
  DEST=$(in_caller "$1")
elif [ -n "${PDADMM_BUILD:-}" ]; then
  DEST=$(in_caller "$PDADMM_BUILD")/mpi
else
  DEST=""
fi
cd "$(dirname "$0")/.."
DEST=${DEST:-build-gpu/mpi}  # the repository's, as gpu_check.sh's default build
# openmpi-bin/libopenmpi3 and their libraries that a GPU image may lack (glibc, libstdc++ and zlib it has).
PKGS=(openmpi-bin libopenmpi3 openmpi-common libevent-core-2.1-7 libevent-pthreads-2.1-7 libhwloc15 libpmix2
      libucx0 libfabric1 libnuma1 libnl-3-200 libnl-route-3-200 libibverbs1 librdmacm1 libpsm2-2
      libpsm-infinipath1 libmunge2 libltdl7 libxnvctrl0 libgfortran5)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
chmod 755 "$work"  # apt-get download writes as the _apt user where it can
(cd "$work" && apt-get download "${PKGS[@]}" >/dev/null)
mkdir -p "$DEST"
for deb in "$work"/*.deb; do dpkg -x "$deb" "$DEST"; done
prefix=$(cd "$DEST/usr" && pwd)
[ -x "$prefix/bin/orterun" ] || { echo "error: $DEST/usr/bin/orterun missing after unpacking" >&2; exit 1; }
echo "carry_mpi: Open MPI runtime in $DEST ($(du -sh "$DEST" | cut -f1)); to use it by hand (paths as here):"
echo "  export OPAL_PREFIX=$prefix PATH=$prefix/bin:\$PATH"
echo "  export LD_LIBRARY_PATH=$prefix/lib/x86_64-linux-gnu:$prefix/lib/x86_64-linux-gnu/openmpi/lib:\$LD_LIBRARY_PATH"
echo "  orterun -np 2 …   (Debian names mpirun through alternatives; orterun is the same program)"
