#!/usr/bin/env python3
"""Writes the seed corpus of the logz fuzz targets: small valid inputs of each format.

    /usr/bin/python3 fuzz/make_corpus.py [--logz build/apps/logz/logz] [--out fuzz/corpus]

Files are written with NumPy from the formats in docs/file-formats.md, so the corpus does
not depend on logz itself; with --logz, files that the CLI writes (trained Ising and Potts
models, plmc's parameter file from `logz convert`) are added too, because they carry
everything logz puts in a file (markers, edges, lattice, focus arrays).

The model-file targets read a "NPZ:" container (fuzz/fuzz_common.hpp) besides raw bytes:
each .npz seed is also written in that form, so that the fuzzer mutates the .npy members
behind a valid zip instead of breaking the zip's CRC on every mutation.
Deterministic: the same files on every run.
"""
import argparse
import gzip
import io
import os
import shutil
import struct
import subprocess
import tempfile
import zipfile

import numpy as np

RNG = np.random.default_rng(12345)


def npy_bytes(a, fortran=False):
    buf = io.BytesIO()
    np.save(buf, np.asfortranarray(a) if fortran else a)
    return buf.getvalue()


def npz_bytes(arrays, compress=False):
    buf = io.BytesIO()
    (np.savez_compressed if compress else np.savez)(buf, **arrays)
    return buf.getvalue()


def container(members):
    """The "NPZ:" container of (name, bytes) members (see fuzz_common.hpp)."""
    out = b"NPZ:"
    for name, data in members:
        out += b"\n@@ " + name.encode() + b"\n" + data
    return out


def container_of_arrays(arrays):
    return container([(k + ".npy", npy_bytes(v)) for k, v in arrays.items()])


def container_of_zip(path):
    with zipfile.ZipFile(path) as z:
        return container([(n, z.read(n)) for n in z.namelist()])


def marker(kind):
    return np.frombuffer(kind.encode(), dtype=np.uint8).copy()


class Corpus:
    def __init__(self, root):
        self.root = root

    def put(self, target, name, data):
        d = os.path.join(self.root, target)
        os.makedirs(d, exist_ok=True)
        with open(os.path.join(d, name), "wb") as f:
            f.write(data)

    def model(self, targets, name, arrays):
        """An .npz model seed, raw (stored and deflated) and as a container, for each target."""
        for t in targets:
            self.put(t, name + ".npz", npz_bytes(arrays))
            self.put(t, name + ".z.npz", npz_bytes(arrays, compress=True))
            self.put(t, name + ".npzc", container_of_arrays(arrays))


def rbm_arrays(nv=4, nh=3, dtype=np.float64, marginals=True, kind=True):
    a = {
        "weights": RNG.normal(0, 0.1, (nv, nh)).astype(dtype),
        "visible_bias": RNG.normal(0, 0.1, nv).astype(dtype),
        "hidden_bias": RNG.normal(0, 0.1, nh).astype(dtype),
    }
    if marginals:
        a["data_marginals"] = RNG.uniform(0.1, 0.9, nv)
    if kind:
        a["logz_kind"] = marker("rbm")
    return a


def ising_arrays(n=4, lattice=False, spins01=False, kind=True):
    if lattice:  # a 2x2 open lattice, its bonds in row-major pair order (no `edges` array)
        edges = np.array([[0, 1], [0, 2], [1, 3], [2, 3]], dtype=np.int64)
    else:
        edges = np.array([[i, i + 1] for i in range(n - 1)], dtype=np.int64)
    J = np.zeros((n, n))
    for i, j in edges:
        J[i, j] = J[j, i] = RNG.normal(0, 0.3)
    a = {"fields": RNG.normal(0, 0.2, n), "couplings": J}
    if not lattice:
        a["edges"] = edges
    a["spins"] = np.array([0, 1] if spins01 else [-1, 1], dtype=np.int64)
    if lattice:
        a["lattice"] = np.array([2, 2, 0, 0], dtype=np.int64)
    if kind:
        a["logz_kind"] = marker("ising")
    return a


def potts_arrays(L=3, q=3, alphabet="-AC", kind=True):
    J = np.zeros((L, L, q, q))
    edges = []
    for i in range(L):
        for j in range(i + 1, L):
            B = RNG.normal(0, 0.2, (q, q))
            J[i, j] = B
            J[j, i] = B.T
            edges.append([i, j])
    a = {"fields": RNG.normal(0, 0.2, (L, q)), "couplings": J, "edges": np.array(edges, dtype=np.int64)}
    if alphabet:
        a["alphabet"] = marker(alphabet)
    if kind:
        a["logz_kind"] = marker("potts")
    return a


def spd(d):
    A = RNG.normal(0, 1, (d, d))
    return A @ A.T + d * np.eye(d)


def continuous_arrays():
    d = 3
    return {
        "gaussian": {"mean": RNG.normal(0, 1, d), "precision": spd(d), "logz_kind": marker("gaussian")},
        "grbm": {"weights": RNG.normal(0, 0.1, (d, 2)), "visible_bias": np.zeros(d), "hidden_bias": np.zeros(2),
                 "visible_sigma": np.ones(d), "learn_sigma": np.array(1, dtype=np.int64),
                 "logz_kind": marker("grbm")},
        "experts": {"filters": RNG.normal(0, 1, (2, d)), "alpha": np.array([1.5, 2.0]), "quadratic": np.array(0.1),
                    "logz_kind": marker("experts")},
        "neural": {"weights": RNG.normal(0, 0.5, (2, d)), "hidden_bias": np.zeros(2),
                   "output_weights": np.array([0.5, -0.5]), "linear": np.zeros(d), "quadratic": np.array(0.5),
                   "logz_kind": marker("neural")},
    }


def plmc_bytes(L=2, q=3, alphabet=b"-AC", N=2, S=1):
    P = L * (L - 1) // 2
    out = struct.pack("<5i", L, q, N, S, 0)
    out += struct.pack("<5f", 0.2, 0.01, 16.0, 0.0, 1.5)
    out += alphabet
    out += struct.pack(f"<{N + S}f", *([1.0] * N + [0.0] * S))
    out += alphabet[1:2] * L
    out += struct.pack(f"<{L}i", *range(1, L + 1))
    out += np.full(L * q, 1.0 / q, dtype="<f4").tobytes()
    out += RNG.normal(0, 0.2, L * q).astype("<f4").tobytes()
    out += np.full(P * q * q, 1.0 / (q * q), dtype="<f4").tobytes()
    out += RNG.normal(0, 0.2, P * q * q).astype("<f4").tobytes()
    return out


def idx_bytes(a):
    header = bytes([0, 0, 0x08, a.ndim]) + b"".join(struct.pack(">I", d) for d in a.shape)
    return header + a.astype(np.uint8).tobytes()


def checkpoint_arrays():
    return {
        "checkpoint_trainer": marker("rbm_pcd"),
        "checkpoint_config": marker("hidden=3 lr=0.01"),
        "checkpoint_notes": marker('{"epoch": 2}'),
        "weights": RNG.normal(0, 0.1, (4, 3)),
        "visible_bias": np.zeros(4),
        "chains": RNG.integers(0, 2, (5, 4)).astype(np.float64),
        "streams": np.array([3, 7, 11], dtype=np.int64),
        "epoch": np.array([2], dtype=np.int64),
    }


ALIGNMENT = b""">seq1/1-8 first
ACDEFGHI
>seq2
ACDEF-HI
>seq3 third
acACDEFGHIkl
"""
A2M_FOCUS = b""">FOCUS/5-12
AC.DefGHI
>other
AC-DefGHX
>third
ACADEFGH-
"""
RNA = b""">r1
ACGU-A
>r2
ACGUUA
>r3
A-GUUA
"""


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus"))
    ap.add_argument("--logz", help="the logz CLI, to add files it writes")
    args = ap.parse_args()
    c = Corpus(args.out)

    # .npy: every dtype, 0-d to 3-d, both memory orders, version 2.0.
    for dt in (np.uint8, np.int32, np.int64, np.float32, np.float64):
        name = np.dtype(dt).name
        c.put("npy", f"{name}_2d.npy", npy_bytes(RNG.integers(0, 3, (3, 4)).astype(dt)))
        c.put("npy", f"{name}_1d.npy", npy_bytes(np.arange(5).astype(dt)))
    c.put("npy", "f8_0d.npy", npy_bytes(np.array(2.5)))
    c.put("npy", "f8_3d.npy", npy_bytes(RNG.normal(0, 1, (2, 3, 2))))
    c.put("npy", "f8_fortran.npy", npy_bytes(RNG.normal(0, 1, (3, 2)), fortran=True))
    c.put("npy", "f4_empty.npy", npy_bytes(np.zeros((0, 3), dtype=np.float32)))
    v2 = io.BytesIO()
    np.lib.format.write_array(v2, np.arange(4.0), version=(2, 0))
    c.put("npy", "f8_v2.npy", v2.getvalue())

    # .npz: stored, deflated, several members; and the container form.
    arrays = {"a": np.arange(6.0).reshape(2, 3), "b": np.arange(3, dtype=np.int32), "c": np.zeros(0, dtype=np.uint8)}
    c.put("npz", "three.npz", npz_bytes(arrays))
    c.put("npz", "three.z.npz", npz_bytes(arrays, compress=True))
    c.put("npz", "three.npzc", container_of_arrays(arrays))
    c.put("npz", "empty.npz", npz_bytes({}))

    # IDX: plain and gzip, 1 to 3 dimensions.
    c.put("idx", "images.idx", idx_bytes(RNG.integers(0, 256, (2, 3, 3))))
    c.put("idx", "labels.idx", idx_bytes(np.arange(7)))
    c.put("idx", "images.idx.gz", gzip.compress(idx_bytes(RNG.integers(0, 256, (3, 4))), mtime=0))

    # Alignments: a flags byte (fuzz_alignment.cpp), then the file.
    c.put("alignment", "protein", b"\x00" + ALIGNMENT)
    c.put("alignment", "protein_skip", b"\x08" + ALIGNMENT)
    c.put("alignment", "protein_gap", b"\x04" + ALIGNMENT)
    c.put("alignment", "focus", b"\x18FOCUS\n" + A2M_FOCUS)
    c.put("alignment", "rna_dot", b"\x01" + RNA)
    c.put("alignment", "rna_dash", b"\x06" + RNA)
    c.put("alignment", "custom_alphabet", b"\x03-AB\n>x\nAB-A\n>y\nBA-B\r\n\n")

    # Model files, for load_model and for the per-kind readers.
    all_models = ["model_file"]
    c.model(all_models + ["rbm_file"], "rbm_f8", rbm_arrays())
    c.model(all_models + ["rbm_file"], "rbm_f4_nomarker", rbm_arrays(dtype=np.float32, marginals=False, kind=False))
    c.model(all_models + ["mrf_file"], "ising_chain", ising_arrays())
    c.model(all_models + ["mrf_file"], "ising_lattice01", ising_arrays(lattice=True, spins01=True))
    c.model(all_models + ["mrf_file"], "ising_nomarker", {k: v for k, v in ising_arrays(kind=False).items()
                                                          if k in ("fields", "couplings")})
    c.model(all_models + ["mrf_file"], "potts", potts_arrays())
    c.model(all_models + ["mrf_file"], "potts_nomarker", potts_arrays(alphabet=None, kind=False))
    for kind, arrays in continuous_arrays().items():
        c.model(all_models + ["continuous_file"], kind, arrays)
    plmc = plmc_bytes()
    c.put("plmc_params", "small.params", plmc)
    c.put("plmc_params", "nofocus.params", plmc_bytes(L=3, q=2, alphabet=b"-A", N=0, S=0))
    c.put("plmc_params", "one_site.params", plmc_bytes(L=1, q=4, alphabet=b"-ACG", N=3, S=0))
    c.put("model_file", "small.params", plmc)

    # Weights: a flags byte (fuzz_weights_file.cpp), then the file.
    c.put("weights_file", "text", b"\x06# theta 0.8\n0.5\n1\n0\n0.25\n")
    c.put("weights_file", "text_used", b"\x16# header\n\n0.5\n0.125\n")
    c.put("weights_file", "npy", b"\x07" + npy_bytes(np.array([0.5, 1.0, 0.0, 0.25])))
    c.put("weights_file", "npy_f4", b"\x03" + npy_bytes(np.array([1.0, 2.0], dtype=np.float32)))

    # Checkpoints.
    c.model(["checkpoint_file"], "checkpoint", checkpoint_arrays())

    # Option values: a selector byte (fuzz_options.cpp), then the text.
    for name, data in {
        "count": b"\x00100", "count_zero": b"\x010", "real_open": b"\x020.25", "real_exp": b"\x031e-3",
        "real_closed": b"\x041", "choice": b"\x05geometric", "text": b"\x06any text",
        "declared_real": b"\xc0r(]\n0\n1\n0.5", "declared_count": b"\xc0c\n3\n\n42",
        "declared_text": b"\xc0t\nsm,linear\n\nlinear",
    }.items():
        c.put("options", name, data)

    if args.logz:
        add_cli_files(c, args.logz)


def add_cli_files(c, logz):
    """Model files as the CLI writes them (markers, edges, lattice, focus arrays, plmc)."""
    tmp = tempfile.mkdtemp(prefix="logz-corpus-")
    try:
        def run(*argv):
            subprocess.run([logz, *argv, "--threads", "1", "--quiet"], check=True)

        aln = os.path.join(tmp, "aln.a2m")
        with open(aln, "wb") as f:
            f.write(A2M_FOCUS.replace(b"X", b"A"))
        potts = os.path.join(tmp, "potts.npz")
        run("train", "potts", "--data", aln, "--focus", "FOCUS", "--alphabet", "-ACDEFGHI", "--max-iterations",
            "5", "--out", potts)
        params = os.path.join(tmp, "potts.params")
        subprocess.run([logz, "convert", potts, params], check=True, stdout=subprocess.DEVNULL)
        spins = os.path.join(tmp, "spins.npy")
        np.save(spins, RNG.choice([-1, 1], (20, 4)).astype(np.int64))
        ising = os.path.join(tmp, "ising.npz")
        run("train", "ising", "--data", spins, "--graph", "lattice:2x2", "--method", "rm", "--max-iterations", "5",
            "--out", ising)

        for target in ("model_file", "mrf_file"):
            for name, path in (("cli_potts_focus", potts), ("cli_ising_lattice", ising)):
                with open(path, "rb") as f:
                    c.put(target, name + ".npz", f.read())
                c.put(target, name + ".npzc", container_of_zip(path))
        with open(params, "rb") as f:
            data = f.read()
        c.put("plmc_params", "cli_potts.params", data)
        c.put("model_file", "cli_potts.params", data)
    finally:
        shutil.rmtree(tmp)


if __name__ == "__main__":
    main()
