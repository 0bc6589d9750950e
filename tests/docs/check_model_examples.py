#!/usr/bin/env python3
"""Runs `rnnflow validate` on the whole models a Markdown document shows.

A fenced block opened with ```pbtxt model is a whole, valid model: validate
must accept it. One opened with ```pbtxt model error is a whole model with a
mistake, and the fenced block right after it holds the error: validate must
fail and print that text. A block opened with ```text validate NAME shows
part of what validate prints for the whole model named NAME (its `name:`
field): validate must print that text. Each model is written to model.pbtxt
in a scratch folder and validated there, so messages name the file
model.pbtxt.

usage: check_model_examples.py RNNFLOW DOC.md
       check_model_examples.py RNNFLOW --self-test
"""

import os
import re
import subprocess
import sys
import tempfile


def fenced_blocks(text):
    """(line of the opening fence, info string, body) of every fenced block."""
    blocks = []
    lines = text.split("\n")
    i = 0
    while i < len(lines):
        if lines[i].startswith("```"):
            info = lines[i][3:].strip()
            start = i + 1
            i += 1
            while i < len(lines) and not lines[i].startswith("```"):
                i += 1
            blocks.append((start, info, "\n".join(lines[start:i]) + "\n"))
        i += 1
    return blocks


def validate(rnnflow, model_text):
    """(exit status, stdout and stderr) of `rnnflow validate model.pbtxt`."""
    with tempfile.TemporaryDirectory() as scratch:
        with open(os.path.join(scratch, "model.pbtxt"), "w") as f:
            f.write(model_text)
        run = subprocess.run([rnnflow, "validate", "model.pbtxt"], cwd=scratch,
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        return run.returncode, run.stdout


def check(rnnflow, doc_path):
    """Returns (problems, blocks checked of each kind: models, errors, outputs)."""
    with open(doc_path) as f:
        blocks = fenced_blocks(f.read())
    named_models = {}
    for _, info, body in blocks:
        name = re.search(r'^name: "([^"]*)"', body, re.MULTILINE)
        if info == "pbtxt model" and name:
            named_models[name.group(1)] = body
    problems = []
    models = errors = outputs = 0
    for k, (line, info, body) in enumerate(blocks):
        where = "%s:%d" % (doc_path, line)
        if info.startswith("text validate "):
            outputs += 1
            name = info[len("text validate "):]
            if name not in named_models:
                problems.append("%s: no ```pbtxt model block has name: \"%s\"" % (where, name))
                continue
            status, output = validate(rnnflow, named_models[name])
            if body.strip() not in output:
                problems.append("%s: rnnflow validate of '%s' does not print the text shown; it "
                                "prints\n%s" % (where, name, output))
        elif info == "pbtxt model":
            models += 1
            status, output = validate(rnnflow, body)
            if status != 0:
                problems.append("%s: this model does not validate:\n%s" % (where, output))
        elif info == "pbtxt model error":
            errors += 1
            if k + 1 >= len(blocks) or blocks[k + 1][1] not in ("", "text"):
                problems.append("%s: no ```text block with the expected error follows" % where)
                continue
            expected = blocks[k + 1][2].strip()
            status, output = validate(rnnflow, body)
            if status == 0:
                problems.append("%s: this model should fail with\n  %s\nbut validates" %
                                (where, expected))
            elif expected not in output:
                problems.append("%s: the error shown is\n  %s\nbut rnnflow validate prints\n  %s" %
                                (where, expected, output.strip()))
    return problems, (models, errors, outputs)


SELF_TEST_DOC = """
```pbtxt model
format_version: 1
name: "good"
input { name: "x" dtype: FLOAT32 dim: ["T", "N", "4"] }
input { name: "y" dtype: FLOAT32 dim: ["T", "N", "4"] }
node { name: "loss" op: "MeanSquaredError" input: ["x", "y"] }
loss: "loss"
```

```pbtxt model
format_version: 1
node { name: "loss" op: "NoSuchOp" }
```

```pbtxt model error
format_version: 1
input { name: "x" dtype: FLOAT32 dim: ["T", "N", "0"] }
```

```text
model.pbtxt:2:50: graph input 'x': dimension 2 must be positive; got 0
```

```pbtxt model error
format_version: 1
input { name: "x" dtype: FLOAT32 dim: ["T", "N", "0"] }
```

```text
model.pbtxt:2:50: a message rnnflow does not print
```

```pbtxt model error
format_version: 1
input { name: "x" dtype: FLOAT32 dim: ["T", "N", "4"] }
input { name: "y" dtype: FLOAT32 dim: ["T", "N", "4"] }
node { name: "loss" op: "MeanSquaredError" input: ["x", "y"] }
loss: "loss"
```

```text
model.pbtxt: an error
```

```pbtxt model error
format_version: 1
```

```text validate good
  streams_per_worker          16        (N: streams per worker; default)
```

```text validate good
  streams_per_worker          17
```

```text validate bad
model 'bad'
```
"""


def self_test(rnnflow):
    """The checker passes the good blocks and reports each broken one."""
    with tempfile.TemporaryDirectory() as scratch:
        doc = os.path.join(scratch, "doc.md")
        with open(doc, "w") as f:
            f.write(SELF_TEST_DOC)
        problems, counts = check(rnnflow, doc)
    wanted = ["does not validate", "but rnnflow validate prints", "but validates",
              "no ```text block", "does not print the text shown", "no ```pbtxt model block"]
    ok = counts == (2, 4, 3) and len(problems) == len(wanted) and all(
        w in p for w, p in zip(wanted, problems))
    if not ok:
        print("self-test: expected %d problems (%s) in 2 models, 4 errors and 3 outputs; got "
              "%s:\n%s" % (len(wanted), "; ".join(wanted), counts, "\n".join(problems)))
        return 1
    print("self-test: every broken example reported")
    return 0


def main(argv):
    if len(argv) != 3:
        print(__doc__)
        return 2
    rnnflow = os.path.abspath(argv[1])
    if argv[2] == "--self-test":
        return self_test(rnnflow)
    problems, (models, errors, outputs) = check(rnnflow, argv[2])
    if models == 0 or errors == 0:
        problems.append("%s: expected ```pbtxt model and ```pbtxt model error blocks; found %d "
                        "and %d" % (argv[2], models, errors))
    for p in problems:
        print(p)
    if problems:
        print("\n%d of %d examples differ from what rnnflow validate says; fix the document (or "
              "the tool)" % (len(problems), models + errors + outputs))
        return 1
    print("%s: %d whole models validate, %d broken ones fail as shown, %d validate outputs "
          "as shown" %
          (argv[2], models, errors, outputs))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
