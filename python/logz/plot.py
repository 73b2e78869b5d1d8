"""Pictures of models, samples, training and estimates (matplotlib).

Each function draws one figure, returns it, and writes it to ``path`` when one is given
(PNG or SVG by the extension). The same figures come from the command line:
``logz plot filters --model m.npz --out filters.png`` (``python3 -m logz.plot --help``).

- :func:`filters`: an RBM's weights, one image per hidden unit;
- :func:`samples`: a grid of samples, next to a grid of data rows;
- :func:`training_curves`: the JSON-lines log of ``logz train rbm`` (reconstruction error,
  pseudo-log-likelihood, AIS test log-likelihood with its error band);
- :func:`diagnostics`: the per-β table of estimates (ESS, acceptance, log-weight
  variance), several estimates (replicates, seeds) overlaid;
- :func:`contacts`: the contact map of a Potts model, APC-corrected coupling norms, the
  top-L pairs marked;
- :func:`estimates`: log Z by method with their intervals, against the exact value.
"""

import argparse
import json
import math
import os
import sys

import numpy as np


def _pyplot():
    import matplotlib
    if not os.environ.get("DISPLAY") and matplotlib.get_backend().lower() != "agg":
        matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    return plt


def _finish(fig, path):
    fig.tight_layout()
    if path is not None:
        path = os.fspath(path)
        tmp = path + ".tmp" + os.path.splitext(path)[1]
        fig.savefig(tmp, dpi=100)
        os.replace(tmp, path)  # written whole or not at all
    return fig


def _grid(images, shape, columns):
    """Tiles images (rows of pixels) into one array with a 1-pixel gap."""
    n = len(images)
    columns = min(columns, n)
    rows = math.ceil(n / columns)
    h, w = shape
    out = np.full((rows * (h + 1) + 1, columns * (w + 1) + 1), np.nan)
    for k, img in enumerate(images):
        r, c = divmod(k, columns)
        out[1 + r * (h + 1): 1 + r * (h + 1) + h, 1 + c * (w + 1): 1 + c * (w + 1) + w] = np.reshape(img, shape)
    return out


def _square_shape(d):
    s = int(round(math.sqrt(d)))
    if s * s != d:
        raise ValueError(f"logz.plot: {d} pixels are not a square image; give shape=(height, width)")
    return (s, s)


def filters(model, n=64, shape=None, columns=8, path=None):
    """The weights of the first ``n`` hidden units of an RBM (a logz.Model, a path, or a
    [n_visible, n_hidden] array), each as an image, on a symmetric colour scale."""
    from ._core import Model, load
    if isinstance(model, (str, os.PathLike)):
        model = load(model)
    W = np.asarray(model.arrays["weights"] if isinstance(model, Model) else model, dtype=float)
    shape = shape or _square_shape(W.shape[0])
    k = min(n, W.shape[1])
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(1 + columns, 1 + math.ceil(k / columns)))
    limit = np.abs(W[:, :k]).max() or 1.0
    im = ax.imshow(_grid(W[:, :k].T, shape, columns), cmap="RdBu_r", vmin=-limit, vmax=limit)
    ax.set_axis_off()
    ax.set_title(f"weights of {k} of {W.shape[1]} hidden units")
    fig.colorbar(im, ax=ax, fraction=0.03)
    return _finish(fig, path)


def samples(states, data=None, n=64, shape=None, columns=8, path=None):
    """A grid of the first ``n`` sample rows, next to a grid of data rows when given."""
    states = np.asarray(states, dtype=float)
    shape = shape or _square_shape(states.shape[1])
    panels = [("samples", states[:n])] + ([("data", np.asarray(data, dtype=float)[:n])] if data is not None else [])
    plt = _pyplot()
    fig, axes = plt.subplots(1, len(panels), figsize=(1 + columns * len(panels), 1 + math.ceil(n / columns)),
                             squeeze=False)
    for ax, (title, rows) in zip(axes[0], panels):
        ax.imshow(_grid(rows, shape, columns), cmap="gray_r", vmin=0, vmax=max(1.0, rows.max()))
        ax.set_axis_off()
        ax.set_title(f"{title} ({len(rows)})")
    return _finish(fig, path)


def _read_log(log):
    if isinstance(log, (str, os.PathLike)):
        with open(log) as f:
            return [json.loads(line) for line in f if line.strip()]
    return list(log)


def training_curves(log, path=None):
    """Per-epoch curves from a training log (a JSON-lines path or a list of dicts, e.g.
    BernoulliRBM.history_): reconstruction error, pseudo-log-likelihood (train and test),
    and the AIS test log-likelihood with a ±2 SE band where it was monitored."""
    rows = _read_log(log)
    if not rows:
        raise ValueError("logz.plot: the training log has no epochs")
    epoch = np.array([r["epoch"] for r in rows])
    col = lambda key: np.array([r.get(key) if r.get(key) is not None else np.nan for r in rows], dtype=float)  # noqa: E731
    has_ais = np.isfinite(col("ais_test_log_likelihood")).any()
    plt = _pyplot()
    fig, axes = plt.subplots(1, 3 if has_ais else 2, figsize=(12 if has_ais else 8, 3.5))
    axes[0].plot(epoch, col("recon_error"), marker="o")
    axes[0].set(xlabel="epoch", ylabel="reconstruction error")
    axes[1].plot(epoch, col("pseudo_log_likelihood"), marker="o", label="train")
    if np.isfinite(col("test_pseudo_log_likelihood")).any():
        axes[1].plot(epoch, col("test_pseudo_log_likelihood"), marker="s", label="test")
    axes[1].set(xlabel="epoch", ylabel="pseudo-log-likelihood")
    axes[1].legend()
    if has_ais:
        ll, se = col("ais_test_log_likelihood"), col("ais_test_log_likelihood_std_error")
        ok = np.isfinite(ll)
        axes[2].plot(epoch[ok], ll[ok], marker="o")
        axes[2].fill_between(epoch[ok], ll[ok] - 2 * se[ok], ll[ok] + 2 * se[ok], alpha=0.3, label="±2 SE")
        axes[2].set(xlabel="epoch", ylabel="AIS test log-likelihood")
        axes[2].legend()
    return _finish(fig, path)


def diagnostics(estimates, labels=None, path=None):
    """The per-β table of one or several estimates (logz.Estimate, or dicts of arrays as
    Estimate.steps), overlaid: ESS, acceptance and log-weight variance against β."""
    if not isinstance(estimates, (list, tuple)):
        estimates = [estimates]
    tables = [e.steps if hasattr(e, "steps") else e for e in estimates]
    labels = labels or [getattr(e, "method", f"run {k + 1}") + (f" {k + 1}" if len(estimates) > 1 else "")
                        for k, e in enumerate(estimates)]
    plt = _pyplot()
    fig, axes = plt.subplots(1, 3, figsize=(13, 3.5))
    for t, label in zip(tables, labels):
        beta = np.asarray(t["beta"])
        for ax, key in zip(axes, ("ess", "acceptance", "log_weight_variance")):
            y = np.asarray(t[key], dtype=float)
            if np.isfinite(y).any():
                ax.plot(beta, y, label=label, lw=1)
    for ax, name in zip(axes, ("ESS", "acceptance", "log-weight variance")):
        ax.set(xlabel="β", ylabel=name)
    axes[2].set_yscale("symlog", linthresh=1e-3)
    axes[0].legend(fontsize="small")
    return _finish(fig, path)


def apc_scores(model):
    """The contact scores of a Potts model (logz.contacts: Frobenius norms of the coupling
    blocks in the zero-sum gauge with the average product correction, as plmc and logz's
    --contacts compute them) as an [L, L] array (zero diagonal). ``model``: a logz.Model, a
    model file's path, or an [L, L, q, q] couplings array."""
    from ._core import Model, contacts, load
    from ._core import model as make_model
    if isinstance(model, (str, os.PathLike)):
        model = load(model)
    if not isinstance(model, Model):
        J = np.asarray(model, dtype=float)
        model = make_model(fields=np.zeros((J.shape[0], J.shape[2])), couplings=J)
    L = model.dimension
    S = np.zeros((L, L))
    i, j = np.triu_indices(L, k=1)  # the pairs i < j in the order logz.contacts lists them
    S[i, j] = S[j, i] = contacts(model)["apc"]
    return S


def contacts(model, top=None, min_separation=6, positions=None, path=None):
    """The contact map of a Potts model: APC-corrected coupling norms (lower triangle) and
    the ``top`` pairs (default L) with |i − j| >= min_separation marked (upper triangle).
    ``positions`` numbers the sites (e.g. residue numbers of the focus sequence)."""
    S = apc_scores(model)
    L = S.shape[0]
    pos = np.arange(1, L + 1) if positions is None else np.asarray(positions)
    top = L if top is None else top
    i, j = np.triu_indices(L, k=min_separation)
    order = np.argsort(-S[i, j])[:top]
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6, 6))
    lower = np.where(np.tril(np.ones((L, L), bool), -1), S, np.nan)
    ax.imshow(lower, cmap="Greys", origin="upper", extent=(pos[0] - .5, pos[-1] + .5, pos[-1] + .5, pos[0] - .5))
    ax.scatter(pos[j[order]], pos[i[order]], s=8, c="crimson", label=f"top {len(order)} pairs, |i - j| >= {min_separation}")
    ax.set(xlabel="position", ylabel="position", title="contact map (APC scores below, top pairs above)")
    ax.legend(loc="lower left", fontsize="small")
    return _finish(fig, path)


def estimates(results, exact=None, level=0.95, path=None):
    """log Z by method: each estimate (a dict name → logz.Estimate, or a list) with its
    interval at ``level``, and the exact value as a line when known. Unreliable ones are
    drawn hollow and named so."""
    items = list(results.items()) if isinstance(results, dict) else [(e.method, e) for e in results]
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6, 0.6 * len(items) + 1.5))
    for k, (name, e) in enumerate(items):
        lo, hi = e.interval(level)
        ax.errorbar([e.value], [k], xerr=[[e.value - lo], [hi - e.value]], fmt="o", capsize=4,
                    mfc="C0" if e.reliable else "white", color="C0" if e.reliable else "C3")
    ax.set_yticks(range(len(items)))
    ax.set_yticklabels([n if e.reliable else f"{n} (not reliable)" for n, e in items])
    if exact is not None:
        ax.axvline(float(exact), color="k", ls="--", lw=1, label="exact")
        ax.legend()
    ax.set(xlabel=f"log Z ({int(level * 100)}% intervals)")
    ax.invert_yaxis()
    return _finish(fig, path)


# ------------------------------------------------------------------ command line

def main(argv=None):
    from . import _core
    from .errors import LogzError
    ap = argparse.ArgumentParser(prog="logz plot", description="Pictures of models, samples, training and estimates "
                                 "(PNG or SVG by the extension of --out).")
    sub = ap.add_subparsers(dest="what", required=True)
    p = sub.add_parser("filters", help="an RBM's weights as images")
    p.add_argument("--model", required=True)
    p.add_argument("--count", type=int, default=64)
    p = sub.add_parser("samples", help="samples of a model (drawn here, Gibbs) next to data rows (.npy)")
    p.add_argument("--model", required=True)
    p.add_argument("--data")
    p.add_argument("--count", type=int, default=64)
    p.add_argument("--steps", type=int, default=1000)
    p.add_argument("--seed", type=int, default=1)
    p = sub.add_parser("training", help="curves of a training log (.log.jsonl)")
    p.add_argument("--log", required=True)
    p = sub.add_parser("diagnostics", help="per-beta tables of --diagnostics CSV files, overlaid")
    p.add_argument("--csv", required=True, nargs="+")
    p = sub.add_parser("contacts", help="the contact map of a Potts model")
    p.add_argument("--model", required=True)
    p.add_argument("--top", type=int)
    p.add_argument("--min-separation", type=int, default=6)
    p = sub.add_parser("estimates", help="log Z by method: estimate JSON files (logz estimate --json)")
    p.add_argument("--json", required=True, nargs="+")
    p.add_argument("--exact", type=float)
    for p in sub.choices.values():
        p.add_argument("--out", required=True, help="the picture to write (.png or .svg)")
    a = ap.parse_args(argv)
    if os.path.splitext(a.out)[1].lower() not in (".png", ".svg"):
        ap.error(f"--out {a.out}: the picture must be .png or .svg")
    try:
        if a.what == "filters":
            filters(a.model, n=a.count, path=a.out)
        elif a.what == "samples":
            m = _core.load(a.model)
            s = _core.sample(m, chains=a.count, steps=a.steps, seed=a.seed)
            samples(s, np.load(a.data) if a.data else None, n=a.count, path=a.out)
        elif a.what == "training":
            training_curves(a.log, path=a.out)
        elif a.what == "diagnostics":
            tables = [{k: np.genfromtxt(c, delimiter=",", names=True)[k] for k in ("beta", "ess", "acceptance",
                                                                                  "log_weight_variance")}
                      for c in a.csv]
            diagnostics(tables, labels=[os.path.basename(c) for c in a.csv], path=a.out)
        elif a.what == "contacts":
            contacts(a.model, top=a.top, min_separation=a.min_separation, path=a.out)
        elif a.what == "estimates":
            results = {}
            for f in a.json:
                with open(f) as fh:
                    d = json.load(fh)
                d.setdefault("steps", {})
                d.setdefault("log_weights", np.array([]))
                results[f"{d['method']} ({os.path.basename(f)})"] = _core.Estimate(d)
            estimates(results, exact=a.exact, path=a.out)
    except LogzError as e:
        print(e, file=sys.stderr)
        return e.code
    except ImportError as e:
        print(f"logz plot: {e}: the pictures need matplotlib (Debian: python3-matplotlib)", file=sys.stderr)
        return 69
    except (OSError, ValueError, KeyError) as e:
        print(f"logz plot: {e}", file=sys.stderr)
        return 65 if isinstance(e, (ValueError, KeyError)) else 66
    print(f"wrote {a.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
