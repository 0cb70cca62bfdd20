#!/usr/bin/env bash
# Static analysis: clang-tidy (the checks in .clang-tidy) over host/ and the host C++ of cuda/,
# then cppcheck over both. Exits 1 on any finding. Needs a CPU build's compile_commands.json:
# PDADMM_BUILD (default build-cpu), as tools/build.sh makes it with PDADMM_CMAKE_ARGS=-DPDADMM_CUDA=OFF.
# Not part of CI: the findings depend on the tools' versions (written against clang-tidy 14,
# cppcheck 2.10). A false positive gets a NOLINTNEXTLINE(check) or cppcheck-suppress with the reason.
set -euo pipefail
# Exit 2 for a refusal, as for a missing tool below: 1 means findings.
usage="tools/lint.sh takes no arguments; see --help for its settings"
case "${1:-}" in
  -h|--help)
    cat <<'EOF'
usage: tools/lint.sh
clang-tidy (.clang-tidy's checks) over host/ and cuda/'s host C++, then cppcheck; exit 1 on any
finding, 2 when it cannot run. Needs clang-tidy, cppcheck and a CPU build's compile_commands.json:
  PDADMM_BUILD=build-cpu PDADMM_CMAKE_ARGS=-DPDADMM_CUDA=OFF tools/build.sh
  PDADMM_BUILD  build folder with compile_commands.json (default: the repository's build-cpu; a
                relative one is the caller's)
  PDADMM_JOBS   parallel jobs (default: nproc)
  CUDA_HOME     CUDA toolkit, for cuda/*.cpp's headers (default: /usr/local/cuda)
EOF
    exit 0 ;;
  -*) echo "error: unknown option $1 ($usage)" >&2; exit 2 ;;
esac
[ $# -eq 0 ] || { echo "error: unexpected argument $1 ($usage)" >&2; exit 2; }
case ${PDADMM_BUILD:-} in ''|/*) ;; *) PDADMM_BUILD=$PWD/$PDADMM_BUILD ;; esac  # the caller's
cd "$(dirname "$0")/.."
BUILD=${PDADMM_BUILD:-build-cpu}
JOBS=${PDADMM_JOBS:-$(nproc)}
for tool in clang-tidy run-clang-tidy cppcheck; do
  if ! command -v "$tool" >/dev/null; then
    echo "lint: $tool not found; install the Debian packages: sudo apt-get install clang-tidy cppcheck" >&2
    exit 2
  fi
done
if [ ! -f "$BUILD/compile_commands.json" ]; then
  echo "lint: no $BUILD/compile_commands.json; build first:" >&2
  echo "  PDADMM_BUILD=$BUILD PDADMM_CMAKE_ARGS=-DPDADMM_CUDA=OFF tools/build.sh" >&2
  exit 2
fi
root=$PWD
build_dir=$(cd "$BUILD" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failed=0

# host/: as the build compiles it (the compile database lists only the sources a CPU build uses).
# cuda/'s C++ is not in a CPU build's database; it parses with the CUDA headers, when they are here.
dbs=("$BUILD")
cuda_inc=${CUDA_HOME:-/usr/local/cuda}/include
if [ -f "$cuda_inc/cuda_runtime.h" ]; then
  mkdir "$tmp/cuda"
  {
    sep='['
    for f in cuda/*.cpp; do
      [ "$f" = cuda/cuda_stub.cpp ] && continue  # a CPU build's stand-in, in its database
      printf '%s{"directory": "%s", "file": "%s", "arguments": ["c++", "-std=c++17", "-fopenmp", "-I%s", "-I%s", "-isystem", "%s", "-c", "%s"]}\n' \
        "$sep" "$root" "$root/$f" "$root" "$build_dir/generated" "$cuda_inc" "$root/$f"
      sep=,
    done
    echo ']'
  } >"$tmp/cuda/compile_commands.json"
  dbs+=("$tmp/cuda")
else
  echo "lint: no CUDA headers ($cuda_inc): cuda/*.cpp left out of clang-tidy"
fi
for db in "${dbs[@]}"; do
  echo "lint: clang-tidy ($db/compile_commands.json)"
  # It prints each command and counts of warnings it did not show; the findings are the rest.
  run-clang-tidy -j "$JOBS" -quiet -p "$db" "$root/host/" "$root/cuda/" 2>&1 | sed 's/\x1b\[[0-9;]*m//g' >"$tmp/tidy" ||
    failed=1
  grep -vE '^(clang-tidy|[0-9]+ warnings? (generated|treated as errors)|Suppressed [0-9]+ warnings|Use -header-filter|Use -system-headers)' \
    "$tmp/tidy" || true
  if grep -qE '(warning|error):' "$tmp/tidy"; then failed=1; fi
done

echo "lint: cppcheck"
cppcheck_args=("--enable=warning,performance,portability" --inline-suppr --error-exitcode=1 -q -j "$JOBS"
  --template='{file}:{line}:{column}: {severity}: {message} [{id}]')
cppcheck "${cppcheck_args[@]}" --project="$BUILD/compile_commands.json" --file-filter='host/*' || failed=1
cppcheck "${cppcheck_args[@]}" --std=c++17 --language=c++ -I. cuda/*.cpp || failed=1

if [ "$failed" -ne 0 ]; then
  echo "lint: findings above" >&2
  exit 1
fi
echo "lint: clean"
