#!/usr/bin/env bash
# ctest InstallConsumer: rnnflow used from another project, as README.md's "Use
# rnnflow from your own C++ project" says. Installs the build to a temporary
# prefix, builds examples/consumer against it with find_package(rnnflow), runs
# it in one process and under mpirun -np 2, compiles every installed header
# with pkg-config's flags, and checks that the README's code is the consumer's.
# Usage: consumer_test.sh BUILD_DIR SCRATCH_DIR MPIEXEC [MPIEXEC_FLAGS...]
set -euo pipefail
build=$1 scratch=$2 mpiexec=$3
shift 3
src=$(cd "$(dirname "$0")/../.." && pwd)
rm -rf "$scratch"
mkdir -p "$scratch"
prefix=$scratch/prefix

cmake --install "$build" --prefix "$prefix" >/dev/null
"$prefix/bin/rnnflow" --version

cmake -S "$src/examples/consumer" -B "$scratch/build" -DCMAKE_PREFIX_PATH="$prefix" >/dev/null
cmake --build "$scratch/build"
"$scratch/build/consumer" "$scratch/run"
"$mpiexec" -np 2 "$@" "$scratch/build/consumer" "$scratch/run-mpi"

# Every installed header, in one file, compiles with pkg-config's flags, and
# its libraries link.
headers=$scratch/all_headers.cc
(cd "$prefix/include" && find rnnflow -name '*.h' | sort | sed 's/.*/#include "&"/') >"$headers"
echo 'int main() { return rnnflow::Version()[0] == 0; }' >>"$headers"
pc=$(find "$prefix" -name rnnflow.pc)
flags=$(PKG_CONFIG_PATH=$(dirname "$pc") pkg-config --cflags --libs rnnflow)
# shellcheck disable=SC2086  # $flags is a list of flags
c++ -std=c++17 "$headers" $flags -Wl,-rpath,"$(dirname "$pc")/.." -o "$scratch/all_headers"
"$scratch/all_headers"
echo "$(grep -c '#include' "$headers") installed headers compile"

# Each code block of the README's section is verbatim in examples/consumer.
awk -v out="$scratch/readme" '
  /^## Use rnnflow from your own C\+\+ project/ { section = 1; next }
  /^## / { section = 0 }
  section && /^```(cpp|cmake)$/ { n++; file = out n "." substr($0, 4); next }
  file && /^```$/ { file = ""; next }
  file { print > file }' "$src/README.md"
blocks=0
for block in "$scratch"/readme*.*; do
  case $block in *.cpp) code=$src/examples/consumer/consumer.cc ;; *) code=$src/examples/consumer/CMakeLists.txt ;; esac
  if [[ "$(cat "$code")" != *"$(cat "$block")"* ]]; then
    echo "README.md's block $(basename "$block") is not in $code:"
    cat "$block"
    exit 1
  fi
  blocks=$((blocks + 1))
done
[ "$blocks" -ge 2 ] || { echo "README.md: no code blocks in 'Use rnnflow from your own C++ project'"; exit 1; }
echo "README.md's $blocks code blocks are examples/consumer's code"
