#!/bin/sh
# docs/ops.md is the op registry as `rnnflow ops --markdown` prints it; this
# fails, showing the difference, when the committed file is stale.
# Arguments: the rnnflow binary, the repository root.
set -u
rnnflow=$1
root=$2
printed=$(mktemp)
trap 'rm -f "$printed"' EXIT
if ! "$rnnflow" ops --markdown > "$printed"; then
  echo "rnnflow ops --markdown failed"
  exit 1
fi
if ! diff -u "$root/docs/ops.md" "$printed"; then
  echo
  echo "docs/ops.md is stale (-: committed, +: what rnnflow ops --markdown prints)."
  echo "Regenerate it from the repository root with:"
  echo "  build/rnnflow ops --markdown > docs/ops.md"
  exit 1
fi
echo "docs/ops.md matches rnnflow ops --markdown"
