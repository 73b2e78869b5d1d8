#!/usr/bin/env python3
"""Bad-input campaign against the `logz` command-line tool (docs/robustness.md).

Generates well over 1,000 inputs a user or a hostile file could give — damaged and
hand-crafted .npy / .npz / IDX / FASTA / A2M / plmc files, values at and past the ends of
every count and number option, over-large requests, paths that are inputs, devices or
links — runs every subcommand that reads them, and checks each run:

* it ends by itself (no signal, no timeout) with a sysexits code logz documents
  (0, 64, 65, 66, 69, 73, 74, 75): never 70 (an internal error) or a crash;
* a failure says what went wrong on stderr, starting "logz: ";
* it used less than MAX_RSS of memory, and left no temporary file behind;
* the pinned reproducers (each a bug once) give their exit code and message, and every
  over-large request is refused with 69 within a second;
* a 100 MB write stopped by SIGINT, SIGTERM or SIGKILL ends within a second and leaves
  the old output or the whole new one, never a part or a temporary file.

The inputs come from a seeded generator (CAMPAIGN_SEED, default 1), so a failure can be
rerun; the failing command lines are printed. Usage: campaign.py LOGZ [--seed N] [--jobs N]
"""
import argparse
import concurrent.futures as futures
import io
import os
import random
import resource
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import threading
import time
import zipfile

import numpy as np

ALLOWED = {0, 64, 65, 66, 69, 73, 74, 75}
TIMEOUT_S = 60          # a run that takes longer is a finding (they take milliseconds)
MAX_RSS_KB = 3 << 20    # 3 GiB: no input here should make logz hold more
SMALL = ["--threads", "1", "--quiet"]


# ----------------------------------------------------------------------------- running

class Run:
    def __init__(self, args, expect=None, message=None, max_seconds=None, name=""):
        self.args, self.expect, self.message, self.max_seconds, self.name = args, expect, message, max_seconds, name
        self.code = self.seconds = self.rss_kb = None
        self.err = ""
        self.problem = None


def execute(logz, run, workdir):
    """Runs one command; fills code, seconds, rss_kb, err and problem."""
    out_path = os.path.join(workdir, f"out.{threading.get_ident()}")
    err_path = os.path.join(workdir, f"err.{threading.get_ident()}")
    with open(out_path, "wb") as out, open(err_path, "wb") as err:
        start = time.monotonic()
        # Each job writes its own model: runs at once on one --out would meet the output lock
        # (exit 75), which is not what these inputs test.
        args = [f"o.{threading.get_ident()}.npz" if a == "o.npz" else a for a in run.args]
        p = subprocess.Popen([logz] + args, stdout=out, stderr=err, stdin=subprocess.DEVNULL, cwd=workdir)
        timer = threading.Timer(TIMEOUT_S, p.kill)
        timer.start()
        _, status, usage = os.wait4(p.pid, 0)
        timer.cancel()
        p.returncode = 0  # reaped by wait4
        run.seconds = time.monotonic() - start
    run.rss_kb = usage.ru_maxrss
    run.err = open(err_path, "rb").read().decode("utf-8", "replace")
    if os.WIFSIGNALED(status):
        sig = os.WTERMSIG(status)
        run.code = -sig
        run.problem = "timed out" if sig == signal.SIGKILL and run.seconds >= TIMEOUT_S else f"killed by signal {sig}"
        return
    run.code = os.WEXITSTATUS(status)
    if run.code not in ALLOWED:
        run.problem = f"exit code {run.code}"
    elif run.code != 0 and not any(line.startswith("logz: ") for line in run.err.splitlines()):
        run.problem = "a failure without a 'logz: ' message"
    elif run.rss_kb > MAX_RSS_KB:
        run.problem = f"used {run.rss_kb // 1024} MiB of memory"
    if run.expect is not None and run.code != run.expect:
        run.problem = f"exit code {run.code}, expected {run.expect}"
    elif run.message is not None and run.message not in run.err:
        run.problem = f"message lacks {run.message!r}"
    elif run.max_seconds is not None and run.seconds > run.max_seconds:
        run.problem = f"took {run.seconds:.2f} s, more than {run.max_seconds} s"


# ----------------------------------------------------------------------------- file makers

def npy_bytes(array):
    b = io.BytesIO()
    np.save(b, array, allow_pickle=False)
    return b.getvalue()


def raw_npy(header, payload=b"", version=1):
    """A .npy file with `header` (a dict literal's text) as is: for headers NumPy would not write."""
    body = header.encode("latin1")
    pad = (64 - (10 + len(body) + 1) % 64) % 64 if version == 1 else (64 - (12 + len(body) + 1) % 64) % 64
    body += b" " * pad + b"\n"
    length = struct.pack("<H", len(body)) if version == 1 else struct.pack("<I", len(body))
    return b"\x93NUMPY" + bytes([version, 0]) + length + body + payload


def npz_bytes(arrays, compress=False):
    b = io.BytesIO()
    with zipfile.ZipFile(b, "w", zipfile.ZIP_DEFLATED if compress else zipfile.ZIP_STORED) as z:
        for name, value in arrays.items():
            z.writestr(name + ".npy", value if isinstance(value, bytes) else npy_bytes(value))
    return b.getvalue()


def npz_arrays(path):
    with np.load(path, allow_pickle=False) as z:
        return {k: z[k] for k in z.files}


def idx_bytes(images):
    header = struct.pack(">BBBB", 0, 0, 0x08, images.ndim) + b"".join(struct.pack(">I", d) for d in images.shape)
    return header + images.astype(np.uint8).tobytes()


def mutations(rng, data, count):
    """Damaged copies of `data`: truncations, flipped and overwritten bytes, spliced junk."""
    out = []
    for _ in range(count):
        b = bytearray(data)
        kind = rng.randrange(5)
        if kind == 0 and len(b) > 1:
            b = b[: rng.randrange(len(b))]
        elif kind == 1:
            for _ in range(rng.randint(1, 8)):
                i = rng.randrange(len(b))
                b[i] ^= 1 << rng.randrange(8)
        elif kind == 2:
            for _ in range(rng.randint(1, 4)):
                i = rng.randrange(len(b))
                b[i] = rng.choice([0, 0xFF, 0x7F, 0x80, ord("9"), ord("("), ord("'"), ord(",")])
        elif kind == 3:
            i = rng.randrange(len(b) + 1)
            b[i:i] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 32)))
        else:  # the first 128 bytes hold headers and zip records: damage them most
            for _ in range(rng.randint(1, 4)):
                i = rng.randrange(min(len(b), 128))
                b[i] = rng.randrange(256)
        out.append(bytes(b))
    return out


NPY_HEADERS = [
    "{'descr': '<f8', 'fortran_order': False, 'shape': (3, 0), }",
    "{'descr': '<f8', 'fortran_order': False, 'shape': (0, 3), }",
    "{'descr': '<f8', 'fortran_order': False, 'shape': (0,), }",
    "{'descr': '<f8', 'fortran_order': False, 'shape': (), }",
    "{'descr': '<f8', 'fortran_order': False, 'shape': (1,1,1,1,1,1,1,1,1,1,1,1,1), }",
    "{'descr': '<f8', 'fortran_order': False, 'shape': (1,1,1,1,1,1,1,1,1,1,1,1,1,1,1), }",
    "{'descr': '<f8', 'fortran_order': False, 'shape': (" + "1," * 70 + "), }",
    "{'descr': '<f8', 'fortran_order': False, 'shape': (-1, 3), }",
    "{'descr': '<f8', 'fortran_order': False, 'shape': (9223372036854775807, 2), }",
    "{'descr': '<f8', 'fortran_order': False, 'shape': (18446744073709551616, 1), }",
    "{'descr': '<f8', 'fortran_order': False, 'shape': (4294967296, 4294967296), }",
    "{'descr': '<f8', 'fortran_order': False, 'shape': (2, 6), 'shape': (4, 3), }",
    "{'descr': '<f8', 'descr': '<i4', 'fortran_order': False, 'shape': (4, 3), }",
    "{'descr': '<f8', 'fortran_order': True, 'fortran_order': False, 'shape': (4, 3), }",
    "{'descr': '<f8', 'fortran_order': 1, 'shape': (4, 3), }",
    "{'descr': '<f8', 'fortran_order': None, 'shape': (4, 3), }",
    "{'descr': '<f2', 'fortran_order': False, 'shape': (4, 3), }",
    "{'descr': '>f8', 'fortran_order': False, 'shape': (4, 3), }",
    "{'descr': '|b1', 'fortran_order': False, 'shape': (4, 3), }",
    "{'descr': '<c16', 'fortran_order': False, 'shape': (4, 3), }",
    "{'descr': '|O', 'fortran_order': False, 'shape': (4, 3), }",
    "{'descr': [('a', '<f8')], 'fortran_order': False, 'shape': (4, 3), }",
    "{'descr': '<f8', 'fortran_order': False, }",
    "{'fortran_order': False, 'shape': (4, 3), }",
    "{'descr': '<f8', 'fortran_order': False, 'shape': (4, 'a'), }",
    "{'descr': '<f8', 'fortran_order': False, 'shape': (4, 3.0), }",
    "{'descr': '<f8', 'fortran_order': False, 'shape': [4, 3], }",
    "{'descr': '<f8, 'fortran_order': False, 'shape': (4, 3), }",
    "{'descr': '<f8', 'fortran_order': False, 'shape': " + "(" * 200 + ")" * 200 + ", }",
    "{'descr': '<f8', 'fortran_order': False, 'shape': (4, 3), 'extra': {'a': [1, (2, 3)]}, }",
    "['descr', '<f8']",
    "",
    "{",
    "{'descr': '<f8', 'fortran_order': False, 'shape': (4, 3)} trailing",
    "{'descr': '\\x00', 'fortran_order': False, 'shape': (4, 3), }",
    "{'descr': '<f8', 'fortran_order': False, 'shape': (4, 3), }",  # valid: 96 bytes follow
]


def crafted_npys(rng):
    payload = np.arange(12, dtype="<f8").tobytes()
    files = [raw_npy(h, payload) for h in NPY_HEADERS]
    files += [raw_npy(NPY_HEADERS[-1], payload, version=2), raw_npy(NPY_HEADERS[-1], payload[:50]),
              raw_npy(NPY_HEADERS[-1], payload + b"x"), b"\x93NUMPY\x04\x00\x10\x00",
              b"\x93NUMPY\x01\x00\xff\xff{", b"\x93NUMP", b"", b"not a numpy file at all\n"]
    # Values at the ends of what each reader takes.
    for a in [np.full((5, 4), np.nan), np.full((5, 4), np.inf), np.full((5, 4), 1e308), np.full((5, 4), -1e308),
              np.full((5, 4), 2.0), np.full((5, 4), -1), np.full((5, 4), 255, np.uint8), np.full((5, 4), 256),
              np.full((5, 4), 2**62, np.int64), np.full((5, 4), -2**63, np.int64), np.zeros((1, 1)),
              np.ones((1, 300)), np.asfortranarray(np.ones((4, 3))), np.ones((2, 2, 2)), np.float64(3.0)]:
        files.append(npy_bytes(a))
    return files


def alignment_variants(rng, good):
    text = good.decode()
    variants = [b"", b">only_a_header\n", b"no header line\nACDE\n", b">a\nACDE\n>b\nACD\n",
                b">a\nacde\n>b\nacde\n", b">a\nAC#E\n>b\nACDE\n", b">a\r\nACDE\r\n>b\r\nACDF\r\n",
                b">a\nACDE\n>a\nACDE\n", b">a\n" + b"A" * 100000 + b"\n>b\n" + b"C" * 100000 + b"\n",
                b">a\n\x00\x01\x02\x03\n", b">\n\n>\n\n", b">a\nA\n" * 3000, b">a\n-\n>b\n-\n",
                b">a\nA.C.\n>b\nA-C-\n", b">a\n" + bytes(range(256)) + b"\n", b"\xff\xfe>a\nACDE\n"]
    variants += [m for m in mutations(rng, good, 40)]
    lines = text.splitlines()
    for _ in range(20):  # drop, repeat or shuffle lines
        ls = list(lines)
        op = rng.randrange(3)
        if op == 0 and ls:
            del ls[rng.randrange(len(ls))]
        elif op == 1 and ls:
            ls.insert(rng.randrange(len(ls) + 1), rng.choice(ls))
        else:
            rng.shuffle(ls)
        variants.append(("\n".join(ls) + "\n").encode())
    return variants


# ----------------------------------------------------------------------------- the campaign

def build_fixtures(logz, d, rng):
    """Small valid data and a model of every kind, made by logz itself."""
    np_rng = np.random.default_rng(7)
    np.save(f"{d}/bin.npy", (np_rng.random((200, 10)) < 0.3).astype(np.uint8))
    np.save(f"{d}/real.npy", np_rng.normal(size=(60, 4)))
    np.save(f"{d}/spins.npy", np.where(np_rng.random((80, 6)) < 0.5, -1.0, 1.0))
    np.save(f"{d}/states.npy", np_rng.integers(0, 4, size=(40, 5)))
    np.save(f"{d}/images.npy", np_rng.integers(0, 256, size=(20, 12, 12)).astype(np.uint8))
    open(f"{d}/images.idx", "wb").write(idx_bytes(np_rng.integers(0, 256, size=(20, 12, 12))))
    letters = "ACDEFGHIKLMNPQRSTVWY-"
    seqs = ["".join(rng.choice(letters[:8]) for _ in range(12)) for _ in range(30)]
    open(f"{d}/aln.a2m", "w").write("".join(f">s{i}\n{s}\n" for i, s in enumerate(seqs)))
    makers = {
        "rbm": ["train", "rbm", "--data", "bin.npy", "--hidden", "3", "--epochs", "1", "--batch", "20"],
        "grbm": ["train", "grbm", "--data", "real.npy", "--hidden", "2", "--max-iterations", "5"],
        "gaussian": ["train", "gaussian", "--data", "real.npy", "--max-iterations", "5"],
        "experts": ["train", "experts", "--data", "real.npy", "--max-iterations", "5"],
        "ising": ["train", "ising", "--data", "spins.npy", "--max-iterations", "20"],
        "potts": ["train", "potts", "--data", "aln.a2m", "--max-iterations", "10"],
    }
    for name, args in makers.items():
        subprocess.run([logz] + args + ["--out", f"{name}.npz"] + SMALL, cwd=d, check=True)
    subprocess.run([logz, "convert", "potts.npz", "potts.params", "--quiet"], cwd=d, check=True)


def model_commands(model, data):
    """Every subcommand that reads a model file, cheap settings."""
    cmds = [["info", model], ["exact", "--model", model],
            ["estimate", "--model", model, "--chains", "4", "--betas", "20", "--replicates", "1"],
            ["sample", "--model", model, "--chains", "2", "--steps", "2", "--warmup", "2", "--out", "s.npy"]]
    if data:
        cmds.append(["eval", "--model", model, "--data", data, "--log-z", "exact"])
    return cmds


def campaign(logz, d, rng):
    runs = []

    def add(args, **kw):
        runs.append(Run(list(args) + SMALL, **kw))

    # 1. Damaged and crafted data arrays, into every command that reads data.
    data_commands = [
        lambda f: ["train", "rbm", "--data", f, "--hidden", "3", "--epochs", "1", "--batch", "1", "--out", "o.npz"],
        lambda f: ["train", "ising", "--data", f, "--max-iterations", "5", "--out", "o.npz"],
        lambda f: ["train", "potts", "--data", f, "--max-iterations", "5", "--out", "o.npz"],
        lambda f: ["train", "gaussian", "--data", f, "--max-iterations", "5", "--out", "o.npz"],
        lambda f: ["train", "grbm", "--data", f, "--hidden", "2", "--max-iterations", "3", "--out", "o.npz"],
        lambda f: ["eval", "--model", "rbm.npz", "--data", f, "--log-z", "exact"],
        lambda f: ["eval", "--model", "ising.npz", "--data", f, "--log-z", "exact"],
        lambda f: ["estimate", "--model", "gaussian.npz", "--method", "raise", "--data", f, "--chains", "2",
                   "--betas", "10", "--replicates", "1"],
        lambda f: ["patches", "--images", f, "--size", "2", "--count", "10", "--out", "p.npy"],
    ]
    good = {name: open(f"{d}/{name}.npy", "rb").read() for name in ["bin", "real", "spins", "states", "images"]}
    arrays = crafted_npys(rng)
    for name, data in good.items():
        arrays += mutations(rng, data, 12)
    for i, data in enumerate(arrays):
        path = f"a{i}.npy"
        open(f"{d}/{path}", "wb").write(data)
        for make in rng.sample(data_commands, 3):
            add(make(path))

    # 2. Damaged and crafted model files, into every command that reads a model.
    models = {m: open(f"{d}/{m}.npz", "rb").read() for m in ["rbm", "grbm", "gaussian", "experts", "ising", "potts"]}
    crafted = []
    for m, data in models.items():
        crafted += mutations(rng, data, 10)
        arrays_of = npz_arrays(f"{d}/{m}.npz")
        for key in arrays_of:  # each array in turn: gone, empty, non-finite, huge, another shape or dtype
            for change in ["drop", "empty", "nan", "inf", "huge", "shape", "int", "scalar"]:
                a = dict(arrays_of)
                v = a[key]
                if change == "drop":
                    del a[key]
                elif change == "empty":
                    a[key] = np.zeros((0,) * max(v.ndim, 1))
                elif change in ("nan", "inf", "huge") and v.dtype.kind == "f" and v.size:
                    v = v.copy()
                    v.flat[rng.randrange(v.size)] = {"nan": np.nan, "inf": np.inf, "huge": 1e308}[change]
                    a[key] = v
                elif change == "shape":
                    a[key] = np.zeros(tuple(s + 1 for s in v.shape) or (2,), v.dtype)
                elif change == "int":
                    a[key] = np.full(v.shape, 2**62, np.int64)
                elif change == "scalar":
                    a[key] = np.float64(1.0)
                crafted.append(npz_bytes(a))
    # Archive-level damage: duplicate and odd member names, a member that is not .npy,
    # sizes the archive lies about, an empty archive.
    rbm = npz_arrays(f"{d}/rbm.npz")
    crafted += [npz_bytes({}), npz_bytes({"weights": b"not npy"}), npz_bytes({"../../x": rbm["weights"]}),
                b"PK\x05\x06" + b"\x00" * 18, b"PK\x03\x04" + b"\x00" * 26, npz_bytes(rbm, compress=True)]
    b = io.BytesIO()
    with zipfile.ZipFile(b, "w") as z:
        z.writestr("weights.npy", npy_bytes(rbm["weights"]))
        z.writestr("weights.npy", npy_bytes(rbm["weights"][:1]))
    crafted.append(b.getvalue())
    bomb = bytearray(npz_bytes({"weights": np.zeros((2000, 1000))}, compress=True))
    for declared in [448, 0xFFFFFFF0, 16000128 + 1]:
        lie = bytearray(bomb)
        struct.pack_into("<I", lie, 22, declared)
        struct.pack_into("<I", lie, lie.find(b"PK\x01\x02") + 24, declared)
        crafted.append(bytes(lie))
    for i, data in enumerate(crafted):
        path = f"m{i}.npz"
        open(f"{d}/{path}", "wb").write(data)
        for cmd in rng.sample(model_commands(path, None), 2):
            add(cmd)
    # plmc's binary parameter files, damaged.
    for i, data in enumerate(mutations(rng, open(f"{d}/potts.params", "rb").read(), 40)):
        path = f"p{i}.params"
        open(f"{d}/{path}", "wb").write(data)
        add(rng.choice([["convert", path, f"p{i}.npz"], ["info", path], ["score", "--model", path, "--mutants"]]))

    # 3. Alignments and IDX images.
    for i, data in enumerate(alignment_variants(rng, open(f"{d}/aln.a2m", "rb").read())):
        path = f"s{i}.a2m"
        open(f"{d}/{path}", "wb").write(data)
        add(["train", "potts", "--data", path, "--max-iterations", "5", "--out", "o.npz"])
        add(["score", "--model", "potts.npz", "--data", path])
    for i, data in enumerate(mutations(rng, open(f"{d}/images.idx", "rb").read(), 30)):
        path = f"i{i}.idx"
        open(f"{d}/{path}", "wb").write(data)
        add(["patches", "--images", path, "--size", "2", "--count", "10", "--out", "p.npy"])

    # 4. Option values at and past their ends, on every subcommand.
    counts = ["-1", "0", "1", "1099511627776", "1099511627777", "9223372036854775807", "9223372036854775808",
              "18446744073709551615", "18446744073709551616", "1e9", "1.5", "abc", "", "0x10", "--1", " 3"]
    reals = ["nan", "inf", "-inf", "1e308", "-1e308", "1e-320", "-0", "0", "abc", "", "1e999", "0x1p3"]
    option_sets = [
        (["train", "rbm", "--data", "bin.npy", "--out", "o.npz", "--epochs", "1"],
         ["--hidden", "--k", "--epochs", "--batch", "--chains", "--seed", "--replicas"],
         ["--lr", "--momentum", "--weight-decay", "--init-scale"]),
        (["train", "grbm", "--data", "real.npy", "--out", "o.npz", "--max-iterations", "3"],
         ["--hidden", "--draws", "--projections", "--noise-ratio", "--max-iterations", "--epochs", "--batch",
          "--chains", "--steps", "--seed"], ["--init-scale", "--tolerance", "--lr"]),
        (["train", "ising", "--data", "spins.npy", "--out", "o.npz", "--max-iterations", "5"],
         ["--max-iterations", "--chains", "--sweeps", "--updates", "--average-last", "--seed"],
         ["--l2-fields", "--l2-couplings", "--tolerance", "--lr", "--momentum"]),
        (["train", "potts", "--data", "aln.a2m", "--out", "o.npz", "--max-iterations", "5"],
         ["--max-iterations", "--q", "--chains", "--sweeps"],
         ["--theta", "--lambda-h", "--lambda-e", "--tolerance", "--relative-decrease"]),
        (["estimate", "--model", "rbm.npz", "--chains", "4", "--betas", "20", "--replicates", "1"],
         ["--chains", "--betas", "--sweeps", "--replicates", "--seed", "--runs", "--burn-in", "--samples", "--thin",
          "--chain-length", "--waste-free"], ["--ess-threshold", "--cess"]),
        (["sample", "--model", "gaussian.npz", "--out", "s.npy", "--chains", "2", "--steps", "2", "--warmup", "2"],
         ["--chains", "--steps", "--warmup", "--thin", "--leapfrog", "--seed"], ["--step-size", "--target-acceptance"]),
        (["patches", "--images", "images.npy", "--out", "p.npy", "--size", "2", "--count", "10"],
         ["--size", "--count", "--seed", "--components"], ["--floor", "--min-std"]),
        (["eval", "--model", "ising.npz", "--data", "spins.npy", "--log-z", "exact"], ["--chains", "--betas"], []),
    ]
    for base, count_options, real_options in option_sets:
        for option in count_options:
            for value in counts:
                add(base + [option, value])
        for option in real_options:
            for value in reals:
                add(base + [option, value])
    for graph in ["torus:-1x-5", "lattice:0x6", "lattice:2x3", "torus:3x2", "lattice:4294967296x4294967296",
                  "lattice:18446744073709551617x6", "lattice:2x", "lattice:x3", "lattice:6", "grid:2x3", "", "complete",
                  "ring", "chain", "lattice:1x6", "torus:-0x6", "lattice:+2x3"]:
        add(["train", "ising", "--data", "spins.npy", "--method", "rm", "--graph", graph, "--max-iterations", "3",
             "--out", "o.npz"])
    for schedule in ["list:0,1", "list:1,0", "list:0,0.5", "list:nan", "list:", "list:0,,1", "bogus", "adaptive",
                     "list:0," + ",".join(["0.5"] * 1000) + ",1"]:
        add(["estimate", "--model", "rbm.npz", "--chains", "4", "--betas", "20", "--schedule", schedule])

    # 5. Paths: outputs that are inputs, devices, links, folders; inputs that are not files.
    os.symlink("link_target.npz", f"{d}/link.npz")
    os.mkdir(f"{d}/folder")
    for out in ["bin.npy", "./bin.npy", "/dev/null", "link.npz", "folder", "missing/o.npz", "", "/proc/version"]:
        add(["train", "rbm", "--data", "bin.npy", "--hidden", "2", "--epochs", "1", "--out", out])
    for inp in ["folder", "/dev/null", "missing.npy", "/proc/self/mem", "", "link.npz"]:
        add(["train", "rbm", "--data", inp, "--hidden", "2", "--epochs", "1", "--out", "o.npz"])
        add(["info", inp])
    add(["convert", "potts.npz", "potts.npz"])
    add(["sample", "--model", "rbm.npz", "--out", "rbm.npz", "--chains", "2", "--steps", "1"])
    add(["score", "--model", "potts.npz", "--data", "aln.a2m", "--out", "aln.a2m"])
    add(["patches", "--images", "images.npy", "--out", "images.npy", "--size", "2", "--count", "5"])
    add(["train", "potts", "--data", "aln.a2m", "--out", "o.npz", "--weights-out", "aln.a2m"])
    return runs


def pinned():
    """Reproducers of bugs once found: exit code and message pinned."""
    big = dict(expect=69, message="of memory", max_seconds=1.0)
    return [
        Run(["train", "rbm", "--data", "empty.npy", "--hidden", "4", "--epochs", "1", "--batch", "1", "--out", "o.npz"],
            expect=65, message="empty.npy: the array of shape (3, 0) is empty: axis 1 has length 0", name="empty axis"),
        Run(["train", "rbm", "--data", "dims13.npy", "--hidden", "4", "--out", "o.npz"], expect=65,
            message="expected a 2-D array", name="13 dimensions"),
        Run(["train", "rbm", "--data", "repeated.npy", "--hidden", "4", "--out", "o.npz"], expect=65,
            message="the key 'shape' is repeated", name="repeated header key"),
        Run(["info", "lie.npz"], expect=65, message="inflates to more than the 448 bytes its archive entry declares",
            name="npz member larger than declared"),
        Run(["info", "claim.npz"], expect=65, message="more than deflate can expand", name="npz claims 4 GiB"),
        Run(["info", "lattice.npz"], expect=65, message="does not describe a lattice", name="lattice product overflow"),
        Run(["info", "lattice_big.npz"], expect=65, message="element 1 = 6.148914691236518e+18 is out of range",
            name="lattice side past 2^53"),
        Run(["sample", "--model", "potts300.npz", "--chains", "8", "--steps", "5", "--out", "s300.npy"], expect=0,
            name="Potts states past 255"),
        Run(["exact", "--model", "potts_huge.npz"], expect=65, message="log Z is inf", name="log Z overflows"),
        Run(["train", "rbm", "--data", "bin.npy", "--hidden", "3", "--lr", "1e308", "--out", "o.npz"], expect=64,
            message="training diverged", name="divergent lr"),
        Run(["train", "rbm", "--data", "bin.npy", "--hidden", "3", "--init-scale", "1e308", "--out", "o.npz"],
            expect=64, message="training diverged", name="divergent init-scale"),
        Run(["train", "rbm", "--data", "bin.npy", "--batch", "18446744073709551616", "--out", "o.npz"], expect=64,
            message="--batch: must be at most 1099511627776", name="count past 2^64"),
        Run(["estimate", "--model", "rbm.npz", "--chains", "9223372036854775807"], expect=64,
            message="--chains: must be at most", name="count at 2^63 - 1"),
        Run(["sample", "--model", "gaussian.npz", "--leapfrog", "-1", "--out", "s.npy"], expect=64,
            message="--leapfrog: must be a non-negative integer", name="negative unsigned"),
        Run(["sample", "--model", "gaussian.npz", "--leapfrog", "1099511627776", "--out", "s.npy"], expect=64,
            message="--leapfrog: must be at most 100000 (leapfrog steps", name="endless trajectory"),
        Run(["train", "rbm", "--data", "bin.npy", "--k", "1099511627776", "--out", "o.npz"], expect=64,
            message="--k: must be at most 1000000 (Gibbs steps", name="endless CD-k"),
        Run(["estimate", "--model", "rbm.npz", "--replicates", "18446744073709551616"], expect=64,
            message="must be at most", name="replicates past 2^64"),
        Run(["train", "ising", "--data", "spins.npy", "--method", "rm", "--graph", "torus:-1x-5", "--out", "o.npz"],
            expect=64, message="--graph must be", name="negative lattice"),
        Run(["train", "rbm", "--data", "bin.npy", "--hidden", "2", "--out", "bin.npy"], expect=64,
            message="is the input --data", name="out is the input"),
        # Over-large requests: refused with 69 within a second, by subcommand.
        Run(["estimate", "--model", "rbm.npz", "--betas", "2000000000"], name="estimate --betas 2e9", **big),
        Run(["estimate", "--model", "rbm.npz", "--method", "bridge", "--chains", "1000000", "--betas", "10000"],
            name="bridge 1e6 x 1e4", **big),
        Run(["eval", "--model", "rbm.npz", "--data", "bin.npy", "--chains", "1000000000000"], name="eval chains", **big),
        Run(["estimate", "--energy", "banana2d", "--chains", "1000000000000"], name="energy chains", **big),
        Run(["sample", "--model", "rbm.npz", "--chains", "1000000000000", "--out", "s.npy"], name="sample chains", **big),
        Run(["train", "rbm", "--data", "bin.npy", "--hidden", "1000000000", "--out", "o.npz"], name="rbm hidden", **big),
        Run(["train", "grbm", "--data", "real.npy", "--hidden", "1000000000", "--out", "o.npz"], name="grbm hidden",
            **big),
        Run(["train", "ising", "--data", "spins20k.npy", "--out", "o.npz"], name="ising 20,000 spins", **big),
        Run(["train", "potts", "--data", "potts2600.npy", "--method", "pcd", "--out", "o.npz"],
            name="potts pcd 2,600 sites", **big),
        Run(["patches", "--images", "images.npy", "--size", "2", "--count", "1000000000000", "--out", "p.npy"],
            name="patches count", **big),
    ]


def build_pinned_inputs(d):
    open(f"{d}/empty.npy", "wb").write(npy_bytes(np.zeros((3, 0))))
    open(f"{d}/dims13.npy", "wb").write(raw_npy(NPY_HEADERS[4], np.zeros(1).tobytes()))
    open(f"{d}/repeated.npy", "wb").write(raw_npy(NPY_HEADERS[11], np.arange(12.0).tobytes()))
    bomb = bytearray(npz_bytes({"weights": np.zeros((100000, 100))}, compress=True))
    for name, declared in [("lie", 448), ("claim", 0xFFFFFFF0)]:
        lie = bytearray(bomb)
        struct.pack_into("<I", lie, 22, declared)
        struct.pack_into("<I", lie, lie.find(b"PK\x01\x02") + 24, declared)
        open(f"{d}/{name}.npz", "wb").write(lie)
    n = 6
    open(f"{d}/lattice.npz", "wb").write(npz_bytes({
        "fields": np.zeros(n), "couplings": np.zeros((n, n)),
        "lattice": np.array([4294967296, 4294967296, 0, 0], np.int64)}))
    open(f"{d}/lattice_big.npz", "wb").write(npz_bytes({
        "fields": np.zeros(n), "couplings": np.zeros((n, n)),
        "lattice": np.array([3, 6148914691236517888, 0, 0], np.int64)}))
    fields = np.zeros((3, 300))
    fields[:, 256:] = 5.0
    np.savez(f"{d}/potts300.npz", fields=fields, couplings=np.zeros((3, 3, 300, 300)))
    np.savez(f"{d}/potts_huge.npz", fields=np.full((2, 2), 1e308), couplings=np.zeros((2, 2, 2, 2)))
    np.save(f"{d}/spins20k.npy", np.ones((2, 20000)))
    np.save(f"{d}/potts2600.npy", np.random.default_rng(1).integers(0, 21, size=(5, 2600)))


def interruptions(logz, d, rng, count=16):
    """A command writing ~100 MB stopped by SIGINT, SIGTERM or SIGKILL at random moments:
    it must end within a second of the signal, leave no temporary file, and leave the
    output either absent or whole. Returns the problems found."""
    args = [logz, "patches", "--images", "images.npy", "--size", "3", "--count", "1500000", "--out", "big.npy"] + SMALL
    start = time.monotonic()
    subprocess.run(args, cwd=d, check=True)
    whole = time.monotonic() - start
    shape = np.load(f"{d}/big.npy", mmap_mode="r").shape  # what a run that finishes writes
    problems = []
    for k in range(count):
        if os.path.exists(f"{d}/big.npy"):
            os.remove(f"{d}/big.npy")
        sig = [signal.SIGINT, signal.SIGTERM, signal.SIGKILL][k % 3]
        p = subprocess.Popen(args, cwd=d, stderr=subprocess.DEVNULL)
        time.sleep(rng.uniform(0.0, whole))
        p.send_signal(sig)
        sent = time.monotonic()
        try:
            code = p.wait(timeout=5)
        except subprocess.TimeoutExpired:
            p.kill()
            code = p.wait()
        took = time.monotonic() - sent
        what = f"signal {int(sig)} after {time.monotonic() - sent:.2f} s"
        if code not in (0, -int(sig)):
            problems.append(f"{what}: exit code {code}")
        if took > 1.0:
            problems.append(f"{what}: took {took:.2f} s to end")
        left = [f for f in os.listdir(d) if f.startswith("big.npy.tmp")]
        if left:
            problems.append(f"{what}: left {left}")
            for f in left:
                os.remove(f"{d}/{f}")
        if os.path.exists(f"{d}/big.npy") and np.load(f"{d}/big.npy", mmap_mode="r").shape != shape:
            problems.append(f"{what}: a partial big.npy")
    return problems


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("logz")
    ap.add_argument("--seed", type=int, default=int(os.environ.get("CAMPAIGN_SEED", "1")))
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 2)
    ap.add_argument("--keep", action="store_true", help="keep the work folder")
    opt = ap.parse_args()
    logz = os.path.abspath(opt.logz)
    rng = random.Random(opt.seed)
    d = tempfile.mkdtemp(prefix="logz-campaign-")
    try:
        build_fixtures(logz, d, rng)
        build_pinned_inputs(d)
        runs = campaign(logz, d, rng)
        checks = pinned()
        # Over-large requests are timed one at a time, on a quiet machine.
        timed = [r for r in checks if r.max_seconds is not None]
        untimed = [r for r in checks if r.max_seconds is None]
        start = time.monotonic()
        with futures.ThreadPoolExecutor(opt.jobs) as pool:
            list(pool.map(lambda r: execute(logz, r, d), runs + untimed))
        for r in timed:
            execute(logz, r, d)
        leftovers = [f for f in os.listdir(d) if ".tmp." in f or f.endswith(".lock")]
        stopped = interruptions(logz, d, rng)
        failed = [r for r in runs + checks if r.problem]
        codes = {}
        for r in runs:
            codes[r.code] = codes.get(r.code, 0) + 1
        print(f"campaign seed {opt.seed}: {len(runs)} generated inputs and {len(checks)} pinned reproducers in "
              f"{time.monotonic() - start:.1f} s; exit codes {dict(sorted(codes.items()))}; "
              f"largest memory {max(r.rss_kb for r in runs + checks) // 1024} MiB; "
              f"slowest {max(r.seconds for r in runs + checks):.2f} s; "
              f"over-large requests refused in {max(r.seconds for r in timed):.3f} s at most")
        for r in failed:
            print(f"FAIL ({r.problem}) {r.name}: logz {' '.join(repr(a) if ' ' in a or not a else a for a in r.args)}\n"
                  f"    stderr: {r.err.strip()[:400]}")
        if leftovers:
            print(f"FAIL: temporary or lock files left behind: {leftovers}")
        for problem in stopped:
            print(f"FAIL (interrupted write) {problem}")
        print(f"interrupted writes: 16 runs stopped by SIGINT / SIGTERM / SIGKILL, {len(stopped)} problems")
        if len(runs) < 1000:
            print(f"FAIL: only {len(runs)} generated inputs; the campaign promises at least 1,000")
        return 1 if failed or leftovers or stopped or len(runs) < 1000 else 0
    finally:
        if opt.keep:
            print(f"work folder kept: {d}")
        else:
            shutil.rmtree(d, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
