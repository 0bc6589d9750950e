#!/usr/bin/env python3
"""Checks every #include of the tree against rnnflow's layering.

    check_layering.py REPO      # every .h/.cc under REPO; exit 1 naming each broken rule
    check_layering.py --self-test   # the rules fail on a small tree with forbidden includes

The table below is the one docs/ARCHITECTURE.md ("Layering") shows.
"""
import os
import re
import sys
import tempfile

# --- the table ----------------------------------------------------------------
# The library's layers, bottom first. They include each other as
# "rnnflow/<layer>/<file>.h", the path the headers are installed under.
LIBRARY = ["base", "proto", "graph", "runtime", "ops", "dataset", "training", "inference",
           "dist", "conformance"]
INSTALLED = [layer for layer in LIBRARY if layer != "conformance"]

# Folder -> the folders its files may include (besides its own). tools/,
# examples/, tests/ and bench/ are reached from the repository root
# ("tools/flags.h").
ALLOWED = {
    "base": [],
    "proto": ["base"],
    "graph": ["proto", "base"],
    "runtime": ["graph", "proto", "base"],
    "ops": ["runtime", "graph", "proto", "base"],
    "dataset": ["base"],
    "training": ["runtime", "dataset", "graph", "proto", "base"],
    "inference": ["runtime", "dataset", "graph", "proto", "base"],
    "dist": ["runtime", "graph", "proto", "base"],
    # The PyTorch conformance harness tests fused layers from inside.
    "conformance": INSTALLED,
    "tools": LIBRARY,
    # What a user of the installed library has, and the command-line parser
    # the example programs share with the rnnflow command (tools/flags.h).
    "examples": INSTALLED + ["tools"],
    "bench": LIBRARY,
    "tests": LIBRARY + ["examples", "tools"],
}

# Folders that may include another layer's internal/ headers.
INTERNAL_READERS = ["conformance", "tests"]

# Third-party headers that only some folders may include: name, the include
# paths (a regular expression), the folders.
THIRD_PARTY = [
    ("oneDNN", r"(oneapi/)?dnnl[._/]", ["ops", "conformance", "tests", "bench"]),
    # dist/mpi_reducer.h includes mpi.h, so whatever includes dist has it.
    ("MPI", r"mpi\.h$", ["dist", "tools", "tests", "examples", "bench"]),
    ("OpenMP", r"omp\.h$", ["ops", "training", "tools", "tests", "bench"]),
    # base and dataset link Abseil only (tests/layering/dataset_only_main.cc).
    ("protobuf", r"google/protobuf/",
     [f for f in ALLOWED if f not in ("base", "dataset")]),
]
# ------------------------------------------------------------------------------

SOURCE_SUFFIXES = (".h", ".hpp", ".cc", ".cpp", ".c")
INCLUDE = re.compile(r'^\s*#\s*include\s*([<"])([^>"]+)[>"]')


def folder_of(rel):
    return rel.split("/", 1)[0]


def check_include(root, rel, folder, bracket, path):
    """The rules `#include <bracket>path` in file `rel` breaks, as messages."""
    errors = []
    library = folder in LIBRARY
    parts = path.split("/")
    if parts[0] == "rnnflow" and len(parts) > 2:
        layer = parts[1]
        if library and bracket == "<":
            errors.append('the library includes itself as "rnnflow/<layer>/...", in quotes')
        if layer not in LIBRARY:
            errors.append(f"no layer '{layer}' (layers: {', '.join(LIBRARY)})")
        elif layer != folder and layer not in ALLOWED[folder]:
            errors.append(f"{folder} may not include {layer} "
                          f"({folder} may include: {', '.join(ALLOWED[folder]) or 'nothing'})")
        elif layer != folder and "internal" in parts[2:-1] and folder not in INTERNAL_READERS:
            errors.append(f"{layer}/internal/ is {layer}'s own; only "
                          f"{' and '.join(INTERNAL_READERS)} may include it")
        return errors
    if parts[0] in ALLOWED and len(parts) > 1:
        if parts[0] in LIBRARY:
            errors.append(f'include the library as "rnnflow/{path}", the installed path')
        elif parts[0] != folder and parts[0] not in ALLOWED[folder]:
            errors.append(f"{folder} may not include {parts[0]}")
        return errors
    for name, pattern, folders in THIRD_PARTY:
        if re.match(pattern, path) and folder not in folders:
            errors.append(f"{folder} may not use {name} (only {', '.join(folders)})")
    if library and bracket == '"' and os.path.exists(
            os.path.join(root, os.path.dirname(rel), path)):
        errors.append('library headers are included as "rnnflow/<layer>/...", not relatively')
    return errors


def check_tree(root):
    """Every broken rule under root: 'file:line: #include ...: rule'."""
    errors = []
    for dirpath, dirnames, filenames in os.walk(root):
        # Build trees (they link back to the sources) and hidden folders.
        if "CMakeCache.txt" in filenames:
            dirnames[:] = []
            continue
        dirnames[:] = sorted(d for d in dirnames if not d.startswith(".") and
                             not os.path.islink(os.path.join(dirpath, d)))
        for name in sorted(filenames):
            rel = os.path.relpath(os.path.join(dirpath, name), root)
            if not name.endswith(SOURCE_SUFFIXES) or "/" not in rel:
                continue
            folder = folder_of(rel)
            if folder not in ALLOWED:
                errors.append(f"{rel}: folder '{folder}' has no row in the layering table "
                              "(tests/layering/check_layering.py)")
                continue
            with open(os.path.join(root, rel), encoding="utf-8", errors="replace") as f:
                for number, line in enumerate(f, 1):
                    m = INCLUDE.match(line)
                    if not m:
                        continue
                    for rule in check_include(root, rel, folder, m.group(1), m.group(2)):
                        shown = f'"{m.group(2)}"' if m.group(1) == '"' else f"<{m.group(2)}>"
                        errors.append(f"{rel}:{number}: #include {shown}: {rule}")
    return errors


# A tree breaking each rule once: file, its text, what the report must say.
SELF_TEST_CLEAN = {
    "base/status.h": '#include "absl/status/status.h"\n',
    "graph/graph.cc": '#include "rnnflow/base/status.h"\n#include "rnnflow/proto/m.pb.h"\n',
    "ops/internal/layer.h": '#include <oneapi/dnnl/dnnl.hpp>\n',
    "ops/kernels.cc": '#include "rnnflow/ops/internal/layer.h"\n#include <omp.h>\n',
    "dist/reducer.h": '#include <mpi.h>\n#include "rnnflow/runtime/kernel.h"\n',
    "runtime/kernel.h": '#include "rnnflow/graph/graph.h"\n',
    "tests/layer_test.cc": '#include "rnnflow/ops/internal/layer.h"\n#include "tests/t.h"\n',
    "examples/lm/lm.cc": '#include "rnnflow/dist/reducer.h"\n#include "examples/cli.h"\n',
}
SELF_TEST_BROKEN = [
    ("graph/a.cc", '#include "rnnflow/runtime/kernel.h"\n',
     'graph/a.cc:1: #include "rnnflow/runtime/kernel.h": graph may not include runtime'),
    ("graph/b.cc", '#include <oneapi/dnnl/dnnl.hpp>\n', "graph/b.cc:1: #include <oneapi/"
     "dnnl/dnnl.hpp>: graph may not use oneDNN"),
    ("graph/c.cc", '#include "dnnl.h"\n', "graph/c.cc:1: #include \"dnnl.h\": graph may not "
     "use oneDNN"),
    ("graph/d.cc", '\n#include <mpi.h>\n', "graph/d.cc:2: #include <mpi.h>: graph may not use MPI"),
    ("graph/e.cc", '#  include <omp.h>\n', "graph/e.cc:1: #include <omp.h>: graph may not use "
     "OpenMP"),
    ("dataset/f.cc", '#include "google/protobuf/message.h"\n', "dataset/f.cc:1: #include "
     '"google/protobuf/message.h": dataset may not use protobuf'),
    ("dataset/g.cc", '#include "rnnflow/graph/graph.h"\n', "dataset/g.cc:1: #include "
     '"rnnflow/graph/graph.h": dataset may not include graph'),
    ("training/h.cc", '#include "rnnflow/ops/internal/layer.h"\n', "training/h.cc:1: #include "
     '"rnnflow/ops/internal/layer.h": training may not include ops'),
    ("conformance/i.cc", '#include "rnnflow/tools/flags.h"\n', "conformance/i.cc:1: #include "
     "\"rnnflow/tools/flags.h\": no layer 'tools'"),
    ("tools/j.cc", '#include "rnnflow/ops/internal/layer.h"\n', "tools/j.cc:1: #include "
     '"rnnflow/ops/internal/layer.h": ops/internal/ is ops\'s own'),
    ("examples/k/k.cc", '#include "rnnflow/ops/internal/layer.h"\n', "examples/k/k.cc:1: "
     "#include \"rnnflow/ops/internal/layer.h\": ops/internal/ is ops's own"),
    ("examples/l/l.cc", '#include "rnnflow/conformance/case.h"\n', "examples/l/l.cc:1: "
     "#include \"rnnflow/conformance/case.h\": examples may not include conformance"),
    ("runtime/m.h", '#include "kernel.h"\n', 'runtime/m.h:1: #include "kernel.h": library '
     'headers are included as "rnnflow/<layer>/...", not relatively'),
    ("ops/n.cc", '#include "runtime/kernel.h"\n', 'ops/n.cc:1: #include "runtime/kernel.h": '
     'include the library as "rnnflow/runtime/kernel.h"'),
    ("base/o.h", '#include <rnnflow/base/status.h>\n', "base/o.h:1: #include <rnnflow/base/"
     'status.h>: the library includes itself as "rnnflow/<layer>/...", in quotes'),
    ("runtime/p.cc", '#include "tests/t.h"\n', 'runtime/p.cc:1: #include "tests/t.h": '
     "runtime may not include tests"),
    ("newfolder/q.cc", '#include "rnnflow/base/status.h"\n', "newfolder/q.cc: folder "
     "'newfolder' has no row in the layering table"),
]


def write_tree(root, files):
    for rel, text in files.items():
        os.makedirs(os.path.join(root, os.path.dirname(rel)), exist_ok=True)
        with open(os.path.join(root, rel), "w") as f:
            f.write(text)


def self_test():
    """0 when the clean tree passes and each broken file is reported as expected."""
    with tempfile.TemporaryDirectory() as root:
        write_tree(root, SELF_TEST_CLEAN)
        errors = check_tree(root)
        if errors:
            print("self-test: the clean tree was reported:\n  " + "\n  ".join(errors))
            return 1
        write_tree(root, {rel: text for rel, text, _ in SELF_TEST_BROKEN})
        errors = check_tree(root)
        missing = [want for _, _, want in SELF_TEST_BROKEN
                   if not any(e.startswith(want) for e in errors)]
        for want in missing:
            print(f"self-test: not reported: {want}")
        if missing or len(errors) != len(SELF_TEST_BROKEN):
            print("self-test: reported:\n  " + "\n  ".join(errors))
            return 1
    print(f"self-test: all {len(SELF_TEST_BROKEN)} forbidden includes reported")
    return 0


def main(argv):
    if argv[1:] == ["--self-test"]:
        return self_test()
    if len(argv) != 2:
        print(__doc__.strip())
        return 2
    errors = check_tree(argv[1])
    for e in errors:
        print(e)
    if errors:
        print(f"{len(errors)} include(s) break the layering (tests/layering/check_layering.py)")
        return 1
    print("layering: every include follows the table")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
