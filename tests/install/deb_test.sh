#!/usr/bin/env bash
# ctest DebPackage: builds the Debian packages with CPack (cmake/package.cmake),
# installs them with apt-get as a cluster node would, runs the installed
# /usr/bin/rnnflow on a shipped model, and removes them again. It changes /usr,
# so it needs root and apt-get (exit 77, skipped, otherwise) and leaves alone a
# machine where rnnflow is already installed.
# Usage: deb_test.sh BUILD_DIR SCRATCH_DIR
set -euo pipefail
build=$1 scratch=$2
src=$(cd "$(dirname "$0")/../.." && pwd)
if [ "$(id -u)" -ne 0 ]; then echo "skipped: installing a .deb needs root"; exit 77; fi
if ! command -v apt-get >/dev/null; then echo "skipped: no apt-get"; exit 77; fi
# One at a time on this machine, whichever checkout runs it.
exec 9>/tmp/rnnflow-deb-test.lock
flock 9
if dpkg-query -W -f='${Status}' rnnflow 2>/dev/null | grep -q "ok installed"; then
  echo "skipped: a rnnflow package is already installed"
  exit 77
fi
rm -rf "$scratch"
mkdir -p "$scratch"

(cd "$build" && cpack -G DEB -B "$scratch" >/dev/null)
runtime=$(echo "$scratch"/rnnflow_*.deb)
dev=$(echo "$scratch"/rnnflow-dev_*.deb)
# dpkg-shlibdeps found the Debian packages of the libraries rnnflow links.
depends=$(dpkg-deb -f "$runtime" Depends)
echo "$(basename "$runtime") depends on: $depends"
for library in libdnnl libprotobuf libabsl libopenmpi libgomp; do
  [[ $depends == *$library* ]] || { echo "no dependency on $library"; exit 1; }
done

apt=(apt-get -y -qq -o DPkg::Lock::Timeout=120)
trap 'DEBIAN_FRONTEND=noninteractive "${apt[@]}" purge rnnflow rnnflow-dev >/dev/null' EXIT
DEBIAN_FRONTEND=noninteractive "${apt[@]}" install "$runtime" "$dev" >/dev/null
/usr/bin/rnnflow --version
/usr/bin/rnnflow validate "$src/examples/char_lm/model.pbtxt"
echo "rnnflow-dev: pkg-config finds rnnflow $(pkg-config --modversion rnnflow)"
