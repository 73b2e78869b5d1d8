#!/usr/bin/env python3
"""The layering check of logz: every `#include "logz/..."` of include/logz/, src/ and
apps/logz/ must point down the layers (or sideways where the table allows it), and the
layers must form no cycle.

A file belongs to the layer named by its folder: include/logz/X/... and src/X/... are
layer X, apps/logz/... is layer `apps`. An include of "logz/Y/..." is an arrow X -> Y.
The arrow is allowed when Y is on a lower level than X (unless X has an explicit list
of what it may include), or when X -> Y is one of the allowed sideways arrows between
layers of the same level. Anything else is reported with the file, the line and the two
layers. Arrows excused by the exceptions file (one "file -> include  # reason" a line)
are not reported; the exceptions file lists the arrows that run the wrong way today and
are being moved, and it is meant to become empty. A cycle between layers is reported on
its own, with one include of each of its arrows.

Plain Python 3, no third-party modules. Exit status: 0 clean, 1 violations (or, with
--strict, stale exceptions), 2 bad usage or a malformed exceptions file.

    check_layers.py [--root DIR] [--exceptions FILE | --no-exceptions] [--strict]
    check_layers.py --print-table
"""

import argparse
import pathlib
import re
import sys

# ---------------------------------------------------------------------------- the table
# Low to high. A layer may include every layer on a lower level, unless `only` lists the
# layers it may include. Layers on one level may not include each other, except along
# SIDEWAYS below.
LAYERS = {
    # name:        (level, only, reason)
    "core":        (0, None, "types, rng, parallel_for, checks: the ground everything stands on"),
    "models":      (1, None, "energies and their parameters; know nothing of how they are sampled or fitted"),
    "exact":       (2, None, "exact log Z, moments and draws of models (enumeration, transfer matrix, junction tree)"),
    "kernels":     (3, None, "MCMC transitions of models; exact/ below them for exact draws and checks"),
    "tempering":   (4, None, "annealing paths, schedules, parallel tempering: models moved by kernels"),
    "estimators":  (5, None, "log Z estimators over annealing paths"),
    "objectives":  (5, None, "losses and gradients of models on data"),
    "optim":       (5, None, "optimizers: see only (parameters, gradient)"),
    "diagnostics": (5, None, "statistics of chains and estimates (ESS, R-hat, MCSE, bootstrap)"),
    "training":    (6, None, "the one trainer loop: objectives + optimizers + monitors over epochs"),
    "io":          (7, ("core", "models"), "files in and out; reads and writes models, runs no algorithm"),
    "api":         (8, None, "the library by task (train, estimate, evaluate, sample, describe)"),
    "apps":        (9, None, "the command-line tool: parse, load, call api, print; may include anything"),
}

# Allowed arrows between layers of one level (from, to), with the reason.
SIDEWAYS = {
    ("objectives", "optim"): "a fit minimises its objective with an optimizer (score matching by L-BFGS)",
    ("estimators", "diagnostics"): "estimators report ESS and R-hat of their own draws",
    ("objectives", "diagnostics"): "trainers' monitors use the chain statistics",
    ("optim", "diagnostics"): "optimizers may use the statistics too",
}

INCLUDE_RE = re.compile(r'^\s*#\s*include\s*[<"](logz/[^">]+)[">]')
SOURCE_SUFFIXES = {".hpp", ".h", ".hh", ".cpp", ".cc", ".cxx", ".cu", ".cuh", ".ipp", ".inl"}


def allowed(src, dst):
    """None if src -> dst is allowed, else the reason it is not."""
    if src == dst:
        return None
    src_level, only, _ = LAYERS[src]
    dst_level = LAYERS[dst][0]
    if only is not None:
        return None if dst in only else "{} may include only {}".format(src, ", ".join(only))
    if (src, dst) in SIDEWAYS or dst_level < src_level:
        return None
    if dst_level == src_level:
        return "{} and {} share level {} and may not include each other".format(src, dst, src_level)
    return "runs up the layers ({} is level {}, {} is level {})".format(src, src_level, dst, dst_level)


def table_problems():
    """The table itself must be a DAG: the allowed arrows may form no cycle."""
    edges = {a: {b for b in LAYERS if b != a and allowed(a, b) is None} for a in LAYERS}
    return ["the layer table allows a cycle: " + " -> ".join(c) for c in cycles(edges)]


# ---------------------------------------------------------------------------- the scan
def layer_of(root, path):
    """The layer of a file (relative path parts), or None when it is in no layer folder."""
    parts = path.relative_to(root).parts
    if parts[:2] == ("include", "logz") and len(parts) > 3:
        return parts[2]
    if parts[0] == "src" and len(parts) > 2:
        return parts[1]
    if parts[:2] == ("apps", "logz"):
        return "apps"
    return None


def scan(root):
    """Every logz include as (file, line number, file's layer, included path, its layer)."""
    out = []
    for top in ("include/logz", "src", "apps/logz"):
        base = root / top
        if not base.is_dir():
            continue
        for path in sorted(p for p in base.rglob("*") if p.is_file() and p.suffix in SOURCE_SUFFIXES):
            rel = path.relative_to(root).as_posix()
            src_layer = layer_of(root, path)
            with open(path, encoding="utf-8", errors="replace") as f:
                for number, text in enumerate(f, 1):
                    m = INCLUDE_RE.match(text)
                    if m:
                        inc = m.group(1)
                        parts = inc.split("/")
                        dst_layer = parts[1] if len(parts) > 2 else None
                        out.append((rel, number, src_layer, inc, dst_layer))
    return out


def read_exceptions(path):
    """{(file, include): reason}; raises ValueError naming the line of a malformed entry."""
    excused = {}
    with open(path, encoding="utf-8") as f:
        for number, text in enumerate(f, 1):
            line = text.strip()
            if not line or line.startswith("#"):
                continue
            entry, sep, reason = line.partition("#")
            reason = reason.strip()
            fields = [x.strip() for x in entry.split("->")]
            if len(fields) != 2 or not all(fields) or not sep or not reason:
                raise ValueError('{}:{}: expected "file -> logz/include.hpp  # reason", got "{}"'.format(
                    path, number, line))
            excused[(fields[0], fields[1])] = reason
    return excused


def cycles(edges):
    """The strongly connected components of more than one node (Tarjan), each as a closed
    path through it, in a stable order."""
    index, low, stack, on_stack, found = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(edges.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(edges):
        if v not in index:
            visit(v)
    return [closed_path(c, edges) for c in sorted(found)]


def closed_path(component, edges):
    """A cycle through the first node of a strongly connected component (breadth first)."""
    members, start = set(component), component[0]
    parent, frontier = {start: None}, [start]
    while frontier:
        nxt = []
        for v in frontier:
            for w in sorted(edges.get(v, ())):
                if w == start:
                    path = [v]
                    while parent[path[-1]] is not None:
                        path.append(parent[path[-1]])
                    return list(reversed(path)) + [start]
                if w in members and w not in parent:
                    parent[w] = v
                    nxt.append(w)
        frontier = nxt
    return component + [start]


def check(root, exceptions):
    """(errors, notes, number of includes excused): the outcome of a run."""
    errors, notes = list(table_problems()), []
    used = set()
    edges, witness = {}, {}
    for rel, number, src, inc, dst in scan(root):
        where = "{}:{}".format(rel, number)
        if src not in LAYERS:
            folder = "its folder" if src is None else "'{}'".format(src)
            errors.append("{}: the file is in no layer ({} is not in the table of check_layers.py)".format(where, folder))
            continue
        if dst not in LAYERS:
            errors.append('{}: includes "{}", which is in no layer (add its folder to the table)'.format(where, inc))
            continue
        if (rel, inc) in exceptions:
            used.add((rel, inc))
            continue
        if src != dst:
            edges.setdefault(src, set()).add(dst)
            witness.setdefault((src, dst), where)
        reason = allowed(src, dst)
        if reason:
            errors.append('{}: {} -> {}: includes "{}": {}'.format(where, src, dst, inc, reason))
    for path in cycles(edges):
        arrows = ", ".join("{} -> {} at {}".format(a, b, witness[(a, b)]) for a, b in zip(path, path[1:]))
        errors.append("cycle between layers {}: {}".format(" -> ".join(path), arrows))
    for rel, inc in sorted(set(exceptions) - used):
        notes.append('stale exception "{} -> {}": no such include any more; remove the line'.format(rel, inc))
    return errors, notes, len(used)


def print_table():
    print("| level | layer | may include | why |")
    print("|---|---|---|---|")
    for name, (level, only, reason) in LAYERS.items():
        if only is not None:
            may = ", ".join(only)
        else:
            lower = [n for n, (lv, _, _) in LAYERS.items() if lv < level]
            side = [b for (a, b) in SIDEWAYS if a == name]
            may = ", ".join(lower + side) if lower or side else "nothing"
        print("| {} | {} | {} | {} |".format(level, name, may, reason))


def main(argv):
    here = pathlib.Path(__file__).resolve().parent
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--root", type=pathlib.Path, default=here.parent.parent,
                        help="the source tree (default: this script's repository)")
    parser.add_argument("--exceptions", type=pathlib.Path,
                        help="allow-list (default: ROOT/tests/architecture/layer_exceptions.txt if present)")
    parser.add_argument("--no-exceptions", action="store_true", help="report every violation")
    parser.add_argument("--strict", action="store_true", help="stale exceptions fail too")
    parser.add_argument("--print-table", action="store_true", help="print the layer table (Markdown) and exit")
    args = parser.parse_args(argv)
    if args.print_table:
        print_table()
        return 0
    root = args.root.resolve()
    if not (root / "include" / "logz").is_dir():
        print("check_layers: {} has no include/logz folder".format(root), file=sys.stderr)
        return 2
    exceptions_path = args.exceptions
    if exceptions_path is None and not args.no_exceptions:
        default = root / "tests" / "architecture" / "layer_exceptions.txt"
        exceptions_path = default if default.is_file() else None
    try:
        exceptions = {} if args.no_exceptions or exceptions_path is None else read_exceptions(exceptions_path)
    except (OSError, ValueError) as e:
        print("check_layers: {}".format(e), file=sys.stderr)
        return 2
    errors, notes, excused = check(root, exceptions)
    for n in notes:
        print("note: " + n)
    for e in errors:
        print("error: " + e)
    if errors or (args.strict and notes):
        print("check_layers: {} problem(s); the layer table is in tests/architecture/check_layers.py "
              "and docs/architecture.md (Layers)".format(len(errors) + (len(notes) if args.strict else 0)))
        return 1
    print("check_layers: OK ({} include(s) excused by {})".format(
        excused, exceptions_path if exceptions else "no exceptions file"))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
