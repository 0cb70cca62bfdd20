#!/usr/bin/env bash
# Packs a CUDA build for a GPU machine that has the driver and the CUDA runtime libraries but none of
# this project's -dev packages (docs/cuda.md): the binaries gpu_check.sh runs, the shared libraries
# they use except glibc, the driver's and CUDA's own (the GPU machine's are used: gpu_check.sh finds
# them), and with --mpi Open MPI's runtime (tools/carry_mpi.sh), into one xz archive.
#   tools/carry_build.sh [BUILD] [--mpi] [--out FILE]   BUILD defaults to ${PDADMM_BUILD:-build};
#                                                       FILE to .carry/build.tar.xz (relative
#                                                       paths given are the caller's; the defaults
#                                                       are the repository's)
# On the GPU machine, in a copy of the repository with FILE in it:
#   mkdir -p /tmp/pdadmm && tar xJf .carry/build.tar.xz -C /tmp/pdadmm
#   PDADMM_BUILD=/tmp/pdadmm/build OUT=/tmp/gpu tools/gpu_check.sh
set -euo pipefail
CALLER=$PWD
in_caller() { case $1 in /*) printf '%s\n' "$1" ;; *) printf '%s\n' "$CALLER/$1" ;; esac; }
cd "$(dirname "$0")/.."
BUILD=build
[ -n "${PDADMM_BUILD:-}" ] && BUILD=$(in_caller "$PDADMM_BUILD")
OUT_FILE=.carry/build.tar.xz
MPI=false
usage="tools/carry_build.sh [BUILD] [--mpi] [--out FILE]"
while [ $# -gt 0 ]; do
  case $1 in
    -h|--help)
      echo "usage: $usage"
      sed -n '2,/^set -euo pipefail/{/^set /d;s/^# \{0,1\}//;p}' "$0"
      exit 0 ;;
    --mpi) MPI=true ;;
    --out)
      [ $# -ge 2 ] || { echo "error: --out needs a file name ($usage)" >&2; exit 1; }
      OUT_FILE=$(in_caller "$2"); shift ;;
    -*) echo "error: unknown option $1 ($usage)" >&2; exit 1 ;;
    *) BUILD=$(in_caller "$1") ;;
  esac
  shift
done
# Names only what is missing: a CPU build has pdadmm but neither CUDA file.
missing=()
[ -x "$BUILD/pdadmm" ] || missing+=(pdadmm)
[ -f "$BUILD/libpdadmm_cuda.so" ] || missing+=(libpdadmm_cuda.so)
[ -x "$BUILD/pdadmm_gpu_bench" ] || missing+=(pdadmm_gpu_bench)
if [ ${#missing[@]} -gt 0 ]; then
  names=${missing[0]}
  [ ${#missing[@]} -eq 3 ] && names="${missing[0]}, ${missing[1]}"
  [ ${#missing[@]} -ge 2 ] && names="$names and ${missing[-1]}"
  echo "error: $BUILD has no $names (build with nvcc present first: tools/build.sh)" >&2
  exit 1
fi
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage/build/lib"
# libpdadmm_cuda.so: the CUDA backend pdadmm opens beside itself (cuda/cuda_api.h).
bins=("$BUILD/pdadmm" "$BUILD/libpdadmm_cuda.so" "$BUILD/pdadmm_gpu_bench")
for t in "$BUILD"/cuda_*_test; do [ -x "$t" ] && bins+=("$t"); done
cp "${bins[@]}" "$stage/build/"
for b in "${bins[@]}"; do ldd "$b"; done | awk '$3 ~ /^\// {print $3}' | sort -u |
  grep -Ev '/(libc|libm|libdl|libpthread|librt|ld-linux[^/]*|libcuda|libnvidia[^/]*|libcudart|libcublas(Lt)?|libcusparse|libnvJitLink|libnccl)\.so' |
  xargs -r cp -Lt "$stage/build/lib"
if [ "$MPI" = true ]; then tools/carry_mpi.sh "$stage/build/mpi" >/dev/null; fi
# The reference vectors the GPU tests check the CUDA backend against (cuda_training_test), beside
# build/ as shared/ is beside the checkout (gpu_check.sh points PDADMM_SHARED at it).
vectors=../shared/reference_vectors
[ -n "${PDADMM_SHARED:-}" ] && vectors=$(in_caller "$PDADMM_SHARED")/reference_vectors
parts=(build)
if [ -f "$vectors/pdadmm_reference.json" ]; then
  mkdir -p "$stage/shared/reference_vectors" && cp "$vectors/pdadmm_reference.json" "$stage/shared/reference_vectors/"
  parts+=(shared)
elif [ -n "${PDADMM_SHARED:-}" ]; then
  echo "warning: $vectors/pdadmm_reference.json not found: the archive has no reference vectors" >&2
fi
mkdir -p "$(dirname "$OUT_FILE")"
tar cJf "$OUT_FILE" -C "$stage" "${parts[@]}"
libs=$(find "$stage/build/lib" -type f | wc -l)
echo "carry_build: $OUT_FILE ($(du -h "$OUT_FILE" | cut -f1)): ${#bins[@]} binaries and modules, $libs libraries$([ "$MPI" = true ] && echo ", Open MPI")$([ ${#parts[@]} -gt 1 ] && echo ", the reference vectors")"
