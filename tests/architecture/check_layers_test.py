#!/usr/bin/env python3
"""Tests of check_layers.py on tiny fake source trees: a clean tree passes; an upward
include, a sideways include between layers of one level, an include into io from a
layer io may not use, a cycle, an include of an unknown layer and a malformed
exceptions file fail with the file, the line and the layers named; the exceptions file
excuses exactly the includes it lists. Plain Python 3 (unittest)."""

import contextlib
import io
import pathlib
import sys
import tempfile
import unittest

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import check_layers  # noqa: E402


def run(root, *args):
    """(exit status, stdout + stderr) of check_layers.main on `root`."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
        status = check_layers.main(["--root", str(root), *args])
    return status, out.getvalue()


class FakeTree:
    """A source tree in a temporary folder: write(path, *includes) makes one file."""

    def __init__(self):
        self._dir = tempfile.TemporaryDirectory()
        self.root = pathlib.Path(self._dir.name)
        (self.root / "include" / "logz").mkdir(parents=True)

    def write(self, rel, *includes, body="// nothing\n"):
        path = self.root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        lines = ["#pragma once"] + ['#include "{}"'.format(i) for i in includes] + [body]
        path.write_text("\n".join(lines))
        return path

    def close(self):
        self._dir.cleanup()


def clean_tree():
    t = FakeTree()
    t.write("include/logz/core/types.hpp")
    t.write("include/logz/models/rbm.hpp", "logz/core/types.hpp")
    t.write("include/logz/kernels/gibbs.hpp", "logz/models/rbm.hpp", "logz/core/types.hpp")
    t.write("include/logz/optim/lbfgs.hpp", "logz/core/types.hpp")
    t.write("include/logz/objectives/sm.hpp", "logz/optim/lbfgs.hpp", "logz/models/rbm.hpp")
    t.write("include/logz/diagnostics/ess.hpp", "logz/core/types.hpp")
    t.write("include/logz/estimators/ais.hpp", "logz/kernels/gibbs.hpp", "logz/diagnostics/ess.hpp")
    t.write("include/logz/io/npz.hpp", "logz/models/rbm.hpp")
    t.write("src/io/npz.cpp", "logz/io/npz.hpp", "logz/core/types.hpp")
    t.write("include/logz/api/train.hpp", "logz/io/npz.hpp", "logz/objectives/sm.hpp")
    t.write("apps/logz/main.cpp", "logz/api/train.hpp", "logz/io/npz.hpp", "logz/estimators/ais.hpp")
    # Angle-bracket includes of other libraries are not logz's business.
    t.write("src/models/rbm.cpp", "logz/models/rbm.hpp", body="#include <Eigen/Core>\n")
    return t


class CheckLayersTest(unittest.TestCase):
    def setUp(self):
        self.tree = clean_tree()
        self.addCleanup(self.tree.close)

    def test_a_clean_tree_passes(self):
        status, out = run(self.tree.root)
        self.assertEqual(status, 0, out)
        self.assertIn("check_layers: OK", out)

    def test_an_upward_include_fails_naming_file_line_and_layers(self):
        self.tree.write("include/logz/models/gaussian.hpp", "logz/core/types.hpp", "logz/objectives/sm.hpp")
        status, out = run(self.tree.root)
        self.assertEqual(status, 1, out)
        self.assertIn('include/logz/models/gaussian.hpp:3: models -> objectives: includes "logz/objectives/sm.hpp": '
                      "runs up the layers (models is level 1, objectives is level 5)", out)

    def test_a_source_file_belongs_to_its_folder_layer(self):
        self.tree.write("src/core/rng.cpp", "logz/kernels/gibbs.hpp")
        status, out = run(self.tree.root)
        self.assertEqual(status, 1, out)
        self.assertIn("src/core/rng.cpp:2: core -> kernels", out)

    def test_layers_of_one_level_may_not_include_each_other(self):
        self.tree.write("src/estimators/ais.cpp", "logz/objectives/sm.hpp")
        status, out = run(self.tree.root)
        self.assertEqual(status, 1, out)
        self.assertIn("src/estimators/ais.cpp:2: estimators -> objectives", out)
        self.assertIn("share level 5", out)

    def test_io_may_include_only_core_and_models(self):
        self.tree.write("src/io/checkpoint.cpp", "logz/models/rbm.hpp", "logz/kernels/gibbs.hpp")
        status, out = run(self.tree.root)
        self.assertEqual(status, 1, out)
        self.assertIn("src/io/checkpoint.cpp:3: io -> kernels", out)
        self.assertIn("io may include only core, models", out)
        self.assertNotIn("checkpoint.cpp:2", out)

    def test_a_cycle_between_layers_fails(self):
        # models -> objectives runs up; with objectives -> models it closes a cycle.
        self.tree.write("src/models/rbm_fit.cpp", "logz/objectives/sm.hpp")
        status, out = run(self.tree.root)
        self.assertEqual(status, 1, out)
        self.assertIn("src/models/rbm_fit.cpp:2: models -> objectives", out)
        self.assertIn("cycle between layers models -> objectives -> models", out)
        self.assertIn("objectives -> models at include/logz/objectives/sm.hpp:3", out)

    def test_an_unknown_layer_fails(self):
        self.tree.write("include/logz/models/x.hpp", "logz/widgets/w.hpp")
        self.tree.write("src/widgets/w.cpp", "logz/core/types.hpp")
        status, out = run(self.tree.root)
        self.assertEqual(status, 1, out)
        self.assertIn('include/logz/models/x.hpp:2: includes "logz/widgets/w.hpp", which is in no layer', out)
        self.assertIn("src/widgets/w.cpp:2: the file is in no layer ('widgets'", out)
        self.tree.write("include/logz/everything.hpp", "logz/core/types.hpp")
        status, out = run(self.tree.root)
        self.assertIn("include/logz/everything.hpp:2: the file is in no layer (its folder", out)

    def test_the_exceptions_file_excuses_exactly_its_lines(self):
        self.tree.write("src/models/rbm_fit.cpp", "logz/objectives/sm.hpp")
        self.tree.write("src/estimators/bad.cpp", "logz/objectives/sm.hpp")
        exceptions = self.tree.root / "tests" / "architecture" / "layer_exceptions.txt"
        exceptions.parent.mkdir(parents=True)
        exceptions.write_text("# comment\n\nsrc/models/rbm_fit.cpp -> logz/objectives/sm.hpp  # being moved\n")
        status, out = run(self.tree.root)
        self.assertEqual(status, 1, out)
        self.assertNotIn("rbm_fit.cpp", out)
        self.assertNotIn("cycle", out)
        self.assertIn("src/estimators/bad.cpp:2: estimators -> objectives", out)
        status, out = run(self.tree.root, "--no-exceptions")
        self.assertIn("rbm_fit.cpp:2: models -> objectives", out)

    def test_a_stale_exception_is_a_note_and_fails_only_when_strict(self):
        exceptions = self.tree.root / "exceptions.txt"
        exceptions.write_text("src/models/gone.cpp -> logz/objectives/sm.hpp  # moved already\n")
        status, out = run(self.tree.root, "--exceptions", str(exceptions))
        self.assertEqual(status, 0, out)
        self.assertIn('stale exception "src/models/gone.cpp -> logz/objectives/sm.hpp"', out)
        status, out = run(self.tree.root, "--exceptions", str(exceptions), "--strict")
        self.assertEqual(status, 1, out)

    def test_an_exception_without_a_reason_is_a_usage_error(self):
        exceptions = self.tree.root / "exceptions.txt"
        exceptions.write_text("src/models/rbm_fit.cpp -> logz/objectives/sm.hpp\n")
        status, out = run(self.tree.root, "--exceptions", str(exceptions))
        self.assertEqual(status, 2, out)
        self.assertIn("exceptions.txt:1: expected", out)

    def test_the_table_allows_no_cycle_and_every_arrow_is_known(self):
        self.assertEqual(check_layers.table_problems(), [])
        for a, b in check_layers.SIDEWAYS:
            self.assertEqual(check_layers.LAYERS[a][0], check_layers.LAYERS[b][0], (a, b))


if __name__ == "__main__":
    unittest.main()
