#!/usr/bin/python3
"""The N-scaling of Algorithm 1's counts (Fig. 1f, Sec. 5.1, App. E.5): per
width and epoch the count per entry, and the exponent a of N fitted across the
widths, for correlations, skewness and excess kurtosis; beside it the paper's
single-N_b statistic and the slope across N_b at fixed N; and the geometry of
the correlated pairs against the null expectation.

The model. If every Hessian entry has non-zero order-k statistics (k = 2:
correlation, 3: skewness, 4: excess kurtosis) with ~N^a of the N^{2(k-1)}
tuples of other entries (N: parameters, N^2 entries), a sample of N_b^2 entries
holds each such tuple with probability (N_b^2 / N^2)^{k-1}, so the count per
entry s_0 / N_b^2 is about N^{a - 2(k-1)} N_b^{2(k-1)}. At fixed N_b the slope b
of log(count per entry) against log N gives a = b + 2(k-1). The paper's claims
(Sec. 5.1: "roughly N^{3/2}, N^3, N^{9/2}") are a = 3/2, 3, 9/2, slopes -1/2,
-1, -3/2; a count that is a fixed fraction of the sample (each entry coupled to
a fixed fraction of all entries) gives slope 0.

Intervals (all 95%):
- of a count per entry: mean over the draws (B per seed, all seeds pooled),
  SD and SE = SD / sqrt(draws), t-interval mean +- t SE;
- of a (across N): the percentile bootstrap (2000 resamples of the draws
  within each width, the fit of the log of the resampled means), and a
  t-interval over per-draw fits (draw d of seed s at every width, fitted
  alone; the draws of different widths are independent, so the pairing is
  only a bookkeeping choice);
- of the single-N_b statistic log(s_0/N_b^2)/log N_b (App. E.5, at N_b = 100
  for the correlations and 10 for skewness and kurtosis): of the mean count,
  bootstrap over the draws;
- of the slope across N_b (correlations at N_b = 10, 20, 50, 100 from nested
  sub-blocks of each draw): per-draw slopes, t-interval.

Geometry (correlations, first draw of each file that holds
/coupling/epoch_E/cc/full, -coupling_full_cc): each correlated ordered pair
(a, b), a = (i_p, j_q), b = (i_p', j_q'), both varying, |r| > threshold, is
put in the first class it fits: same row index (p = p'), same column index
(q = q'), same layer block ((layer(i_p), layer(j_q)) = (layer(i_p'),
layer(j_q'))), none. The null expectation is the same split of all ordered
pairs of varying entries (what a count blind to geometry would give).

    /usr/bin/python3 postprocess/nscaling.py runs/nscaling/nscaling_w*_s*/results.h5 --out runs/nscaling/nscaling

prints the tables (markdown) and writes nscaling.json and nscaling.png to --out.

The counts themselves, small enough to keep where the results files are not
(docs/data/nscaling_counts.json holds the runs behind docs/reproduction.md):

    nscaling.py RUNS/nscaling_w*_s*/results.h5 --counts-out counts.json
    nscaling.py counts.json [more results.h5 ...]

--counts-out writes, per run, N, width, seed, the per-draw counts per entry
of every statistic and epoch (with the nested N_b of the correlations) and
the geometry split of the first draw; such a file is read back in place of
the results files it came from (a run in both is taken once, from the
results file).
"""
import argparse
import json
import math
import os
import re
import sys

import h5py
import numpy as np

STATS = ("cc", "skewness", "kurtosis")
ORDER = {"cc": 2, "skewness": 3, "kurtosis": 4}
PAPER_A = {"cc": 1.5, "skewness": 3.0, "kurtosis": 4.5}
NAMES = {"cc": "correlations", "skewness": "skewness", "kurtosis": "excess kurtosis"}
GEOMETRY = ("same row", "same column", "same layer block", "none")


class NScalingError(Exception):
    """A file is missing or does not hold what the analysis needs."""


def t95(dof):
    """The two-sided 95% quantile of Student's t (dof >= 1)."""
    table = {1: 12.706, 2: 4.303, 3: 3.182, 4: 2.776, 5: 2.571, 6: 2.447, 7: 2.365, 8: 2.306, 9: 2.262, 10: 2.228,
             11: 2.201, 12: 2.179, 13: 2.160, 14: 2.145, 15: 2.131, 19: 2.093, 20: 2.086, 24: 2.064, 29: 2.045}
    if dof in table:
        return table[dof]
    if dof > 29:
        return 1.96 + 2.4 / dof  # within 0.005 of the exact value above 29
    below = max(k for k in table if k < dof)
    above = min(k for k in table if k > dof)
    return table[below] + (table[above] - table[below]) * (dof - below) / (above - below)


def mean_interval(x):
    """(mean, SD, SE, lo, hi) of the values x, the t-interval at 95%."""
    x = np.asarray(x, float)
    x = x[np.isfinite(x)]
    m = float(np.mean(x)) if x.size else math.nan
    if x.size < 2:
        return m, math.nan, math.nan, math.nan, math.nan
    sd = float(np.std(x, ddof=1))
    se = sd / math.sqrt(x.size)
    h = t95(x.size - 1) * se
    return m, sd, se, m - h, m + h


def slope(x, y):
    """Least-squares slope of y on x."""
    x, y = np.asarray(x, float), np.asarray(y, float)
    xc = x - x.mean()
    return float(np.dot(xc, y - y.mean()) / np.dot(xc, xc))


# ---------------------------------------------------------------- reading
def option(options, name, default=None):
    m = re.search(r"(?:^|\s)-" + name + r"\s+(\S+)", options)
    return m.group(1) if m else default


def read_counts(path):
    """The runs of a --counts-out file, as read_run returns them (the arrays as
    numpy arrays, the epochs keyed by int) with their stored geometry."""
    try:
        with open(path) as f:
            d = json.load(f)
    except (OSError, ValueError) as e:
        raise NScalingError(f"{path}: not a counts file of nscaling.py --counts-out ({e})") from None
    if d.get("kind") != "nncas nscaling counts":
        raise NScalingError(f"{path}: not a counts file of nscaling.py --counts-out (no kind 'nncas nscaling counts')")
    runs = []
    for r in d["runs"]:
        r["epochs"] = {int(e): {k: ({kk: (np.asarray(vv) if isinstance(vv, list) else vv) for kk, vv in v.items()}
                                    if isinstance(v, dict) else v) for k, v in ep.items()}
                       for e, ep in r["epochs"].items()}
        r["geometry"] = {int(e): g for e, g in r.get("geometry", {}).items()}
        runs.append(r)
    return runs


def counts_record(runs, geometry):
    """The --counts-out document of runs (read_run's) and their geometry rows."""
    out = []
    for r in runs:
        rec = {k: r[k] for k in ("path", "N", "width", "seed", "spec", "null")}
        rec["epochs"] = {str(e): {k: ({kk: (vv.tolist() if isinstance(vv, np.ndarray) else vv) for kk, vv in v.items()}
                                      if isinstance(v, dict) else v) for k, v in ep.items()}
                         for e, ep in sorted(r["epochs"].items())}
        rec["geometry"] = {str(g["epoch"]): {k: g[k] for k in ("N_b", "threshold", "pairs", "null_fraction", "varying", "draws")
                                             if k in g}
                           for g in geometry if g["path"] == r["path"]}
        out.append(rec)
    return {"kind": "nncas nscaling counts", "runs": out}


def read_run(path):
    """One results file: its N, width, seed and, per coupling epoch, the
    per-draw counts per entry of each statistic."""
    if os.path.isdir(path):
        path = os.path.join(path, "results.h5")
    if not os.path.isfile(path):
        raise NScalingError(f"{path}: no such file")
    with h5py.File(path, "r") as f:
        if "coupling" not in f:
            raise NScalingError(f"{path}: no /coupling group (run nncas with -coupling_every K)")
        a = f.attrs
        opts = a["options"].decode() if isinstance(a["options"], bytes) else str(a["options"])
        spec = a["net_spec"].decode() if isinstance(a["net_spec"], bytes) else str(a["net_spec"])
        m = re.match(r"dense:(\d+)", spec)
        run = {"path": path, "N": int(a["net_parameters"]), "spec": spec, "width": int(m.group(1)) if m else None,
               "seed": int(option(opts, "net_seed", "1")), "epochs": {}}
        for name in sorted(f["coupling"]):
            if not name.startswith("epoch_"):
                continue
            g = f["coupling"][name]
            ep = {"epoch": int(g.attrs["epoch"])}
            for s in STATS:
                if s not in g:
                    continue
                h = g[s]
                ep[s] = {"per_entry": h["per_entry"][...], "N_b": int(h.attrs["N_b"]), "threshold": float(h.attrs["threshold"])}
                if s == "cc" and "geometry" in h:
                    ep[s]["geometry"] = h["geometry"][...]
                if s == "cc" and "per_entry_by_nb" in h:
                    ep[s]["by_nb"] = h["per_entry_by_nb"][...]
                    ep[s]["nb"] = h["nb"][...]
            run["epochs"][ep["epoch"]] = ep
        if not run["epochs"]:
            raise NScalingError(f"{path}: /coupling holds no epoch")
        run["null"] = {s: float(f["coupling/null"][s].attrs["count_mean"]) for s in STATS
                       if "coupling/null" in f and s in f["coupling/null"]}
    return run


# ---------------------------------------------------------------- statistics
def by_width(runs, epoch_of, stat):
    """{N: per-draw counts per entry pooled over seeds} at the epoch chosen by
    epoch_of(run) (first or last coupling epoch of each run)."""
    out = {}
    for r in runs:
        ep = r["epochs"][epoch_of(r)]
        if stat in ep:
            out.setdefault(r["N"], []).append(np.asarray(ep[stat]["per_entry"], float))
    return {N: np.concatenate(v) for N, v in sorted(out.items())}


def fit_across_n(counts, k, rng, nboot=2000):
    """The exponent a (count per entry ~ N^{a - 2(k-1)}) across the widths:
    of the mean counts, with a bootstrap interval and a t-interval over
    per-draw fits. counts: {N: per-draw counts}."""
    Ns = np.array(sorted(counts), float)
    if Ns.size < 2:
        return None
    means = np.array([counts[N].mean() for N in sorted(counts)])
    if np.any(means <= 0):
        return {"a": math.nan, "note": "a zero mean count"}
    off = 2 * (k - 1)
    a = slope(np.log(Ns), np.log(means)) + off
    boot = []
    for _ in range(nboot):
        m = np.array([rng.choice(counts[N], counts[N].size).mean() for N in sorted(counts)])
        if np.all(m > 0):
            boot.append(slope(np.log(Ns), np.log(m)) + off)
    lo, hi = (np.percentile(boot, [2.5, 97.5]) if len(boot) > nboot // 2 else (math.nan, math.nan))
    ndraw = min(counts[N].size for N in sorted(counts))  # draw d of every width
    per_draw = []
    for d in range(ndraw):
        y = np.array([counts[N][d] for N in sorted(counts)])
        if np.all(y > 0):
            per_draw.append(slope(np.log(Ns), np.log(y)) + off)
    m, sd, se, tlo, thi = mean_interval(per_draw)
    return {"a": a, "boot_lo": float(lo), "boot_hi": float(hi), "draw_fits": len(per_draw), "a_draws_mean": m,
            "t_lo": tlo, "t_hi": thi, "slope": a - off, "paper_a": None}


def single_nb(counts, nb, rng, nboot=2000):
    """The paper's statistic log(s_0/N_b^2)/log N_b of the mean count per
    entry, with a bootstrap interval over the draws."""
    m = counts.mean()
    e = math.log(m) / math.log(nb) if m > 0 else math.nan
    boot = [rng.choice(counts, counts.size).mean() for _ in range(nboot)]
    boot = [math.log(b) / math.log(nb) for b in boot if b > 0]
    lo, hi = np.percentile(boot, [2.5, 97.5]) if len(boot) > nboot // 2 else (math.nan, math.nan)
    return e, float(lo), float(hi)


def nb_slopes(runs, epoch_of, N):
    """Per-draw slopes of log(count per entry) against log N_b (correlations)."""
    out = []
    for r in runs:
        if r["N"] != N:
            continue
        cc = r["epochs"][epoch_of(r)].get("cc", {})
        if "by_nb" not in cc:
            continue
        nb = np.log(cc["nb"].astype(float))
        for row in cc["by_nb"]:
            ok = row > 0
            if ok.sum() >= 2:
                out.append(slope(nb[ok], np.log(row[ok])))
    return out


# ---------------------------------------------------------------- geometry
def geometry_split(path, epoch, chunk=1000):
    """Correlated ordered pairs of the first draw by geometry class, and the
    null split of all ordered pairs of varying entries. A constant entry has
    a zero row and a zero diagonal in cc/full; a varying one a diagonal of 1."""
    with h5py.File(path, "r") as f:
        g = f[f"coupling/epoch_{epoch:04d}/cc"]
        if "full" not in g:
            return None
        C = g["full"]
        nb = int(g.attrs["N_b"])
        thr = float(g.attrs["threshold"])
        lr = g["blocks/layer_range"][...]
        layer = lambda idx: np.searchsorted(lr[:, 0], idx, side="right") - 1  # noqa: E731
        p = np.repeat(np.arange(nb), nb)  # variable v = p N_b + q is entry (i_p, j_q)
        q = np.tile(np.arange(nb), nb)
        blk = layer(g["row_index"][0])[p] * len(lr) + layer(g["col_index"][0])[q]
        M = nb * nb
        valid = np.zeros(M, bool)
        for s in range(0, M, chunk):
            X = C[s:s + chunk, :]
            valid[s:s + X.shape[0]] = X[np.arange(X.shape[0]), np.arange(s, s + X.shape[0])] > 0.5
        counts = np.zeros(4)
        for s in range(0, M, chunk):
            X = C[s:s + chunk, :]
            A = np.abs(X) > thr
            A[np.arange(X.shape[0]), np.arange(s, s + X.shape[0])] = False
            A &= valid[s:s + X.shape[0], None] & valid[None, :]
            ra, rb = np.nonzero(A)
            counts += np.bincount(geometry_class(p, q, blk, ra + s, rb), minlength=4)[:4]
    return {"N_b": nb, "threshold": thr, "pairs": counts.tolist(), "null_fraction": null_split(valid, p, q, blk).tolist(),
            "varying": int(valid.sum())}


def geometry_of_draws(cc):
    """The geometry split of every draw, from cc/geometry (nncas writes it per
    draw: 4 classes of the correlated pairs, then the same 4 of all pairs of
    varying variables), summed over the draws; None without it."""
    geo = cc.get("geometry")
    if geo is None:
        return None
    geo = np.asarray(geo, dtype=float)
    null = geo[:, 4:].sum(axis=0)
    return {"N_b": int(cc["N_b"]), "threshold": float(cc["threshold"]), "pairs": geo[:, :4].sum(axis=0).tolist(),
            "null_fraction": (null / null.sum()).tolist(), "varying": float(np.mean(np.sqrt(geo[:, 4:].sum(axis=1) + 0.25) + 0.5)),
            "draws": int(geo.shape[0])}


def geometry_class(p, q, blk, ra, rb):
    cls = np.full(ra.size, 3)
    same_blk = blk[ra] == blk[rb]
    cls[same_blk] = 2
    cls[q[ra] == q[rb]] = 1
    cls[p[ra] == p[rb]] = 0
    return cls


def null_split(valid, p, q, blk):
    """Fractions of the ordered pairs (a, b), a != b, of varying entries in
    each class (first class that fits, as geometry_class)."""
    V = int(valid.sum())
    total = V * (V - 1)
    if total == 0:
        return np.full(4, math.nan)
    pv, qv, bv = p[valid], q[valid], blk[valid]

    def ordered_pairs_sharing(*keys):
        k = np.stack(keys, 1)
        _, c = np.unique(k, axis=0, return_counts=True)
        return float(np.sum(c * (c - 1)))

    same_p = ordered_pairs_sharing(pv)
    same_q = ordered_pairs_sharing(qv)  # p = p' and q = q' only for a = b
    same_b = ordered_pairs_sharing(bv)
    same_b_p = ordered_pairs_sharing(bv, pv)
    same_b_q = ordered_pairs_sharing(bv, qv)
    block_only = same_b - same_b_p - same_b_q
    none = total - same_p - same_q - block_only
    return np.array([same_p, same_q, block_only, none]) / total


# ---------------------------------------------------------------- report
def read_runs(paths):
    """The runs of results files and counts files; a run (path) in both is taken from its results file."""
    runs, stored = [], []
    for p in paths:
        if p.endswith(".json"):
            stored += read_counts(p)
        else:
            runs.append(read_run(p))
    have = {os.path.realpath(r["path"]) for r in runs}
    return runs + [r for r in stored if os.path.realpath(r["path"]) not in have]


def analyse(paths, nboot=2000, seed=0):
    runs = read_runs(paths)
    rng = np.random.default_rng(seed)
    first = lambda r: min(r["epochs"])  # noqa: E731
    last = lambda r: max(r["epochs"])  # noqa: E731
    out = {"runs": [{k: r[k] for k in ("path", "N", "width", "seed")} | {"epochs": sorted(r["epochs"])} for r in runs],
           "stats": {}}
    for stat in STATS:
        k = ORDER[stat]
        for label, ep in (("init", first), ("end", last)):
            counts = by_width(runs, ep, stat)
            if not counts:
                continue
            nbs = {r["epochs"][ep(r)][stat]["N_b"] for r in runs if stat in r["epochs"][ep(r)]}
            if len(nbs) != 1:
                raise NScalingError(f"the files count {stat} at different N_b ({sorted(nbs)}): compare runs of one N_b")
            nb = nbs.pop()
            rows = []
            for N, c in counts.items():
                m, sd, se, lo, hi = mean_interval(c)
                e, elo, ehi = single_nb(c, nb, rng, nboot)
                row = {"N": N, "draws": int(c.size), "mean": m, "sd": sd, "se": se, "lo": lo, "hi": hi,
                       "single_nb": e, "single_nb_lo": elo, "single_nb_hi": ehi}
                if stat == "cc":
                    sl = nb_slopes(runs, ep, N)
                    sm, _, _, slo, shi = mean_interval(sl)
                    row |= {"nb_slope": sm, "nb_slope_lo": slo, "nb_slope_hi": shi, "nb_slope_draws": len(sl)}
                rows.append(row)
            fit = fit_across_n(counts, k, rng, nboot)
            if fit:
                fit["paper_a"] = PAPER_A[stat]
            out["stats"][f"{stat}/{label}"] = {"N_b": nb, "rows": rows, "fit": fit}
    geo = []
    for r in runs:
        for label, ep in (("init", first(r)), ("end", last(r))):
            g = (r["geometry"].get(ep) if "geometry" in r else
                 geometry_of_draws(r["epochs"][ep].get("cc", {})) or geometry_split(r["path"], ep))
            if g:
                geo.append({"N": r["N"], "seed": r["seed"], "epoch": ep, "label": label, "path": r["path"]} | g)
    geo.sort(key=lambda g: (g["N"], g["seed"], g["epoch"]))
    out["geometry"] = geo
    out["geometry_fit"] = geometry_fit(geo)
    out["counts"] = counts_record(runs, geo)
    return out


def regression_interval(x, y):
    """Least-squares slope of y on x and its 95% t-interval from the
    residuals (n - 2 degrees of freedom)."""
    x, y = np.asarray(x, float), np.asarray(y, float)
    b = slope(x, y)
    if x.size < 3:
        return b, math.nan, math.nan
    r = y - y.mean() - b * (x - x.mean())
    se = math.sqrt(np.dot(r, r) / (x.size - 2) / np.dot(x - x.mean(), x - x.mean()))
    h = t95(x.size - 2) * se
    return b, b - h, b + h


def geometry_fit(geo):
    """The exponent a of the correlation count split by geometry (first
    draw of each run with cc/full): pairs sharing a row or column index
    against the others. A sampled N_b x N_b block holds 2(N_b - 1) entries
    sharing a row or column with a given one whatever N is, where a uniform
    sample of N_b^2 of the N^2 entries would hold ~2 N_b^2 / N: couplings
    along rows and columns (population a = 1 at most) give a count per
    entry independent of N, which the model reads as a = 2."""
    out = {}
    for label in ("init", "end"):
        rows = [g for g in geo if g["label"] == label]
        if len({g["N"] for g in rows}) < 3:
            continue
        N = np.log([g["N"] for g in rows])
        per = lambda g, cls: sum(g["pairs"][c] for c in cls) / g["N_b"] ** 2 / g.get("draws", 1)  # noqa: E731
        fit = {}
        for name, cls in (("row_or_column", (0, 1)), ("other", (2, 3)), ("all", (0, 1, 2, 3))):
            y = [per(g, cls) for g in rows]
            if min(y) <= 0:
                continue
            b, lo, hi = regression_interval(N, np.log(y))
            fit[name] = {"a": b + 2, "lo": lo + 2, "hi": hi + 2, "per_entry": y, "N": [g["N"] for g in rows]}
        out[label] = fit
    return out


def fmt(x, nd=3):
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return "n/a"
    return f"{x:.{nd}g}" if abs(x) >= 1e4 or (abs(x) < 1e-2 and x != 0) else f"{x:.{nd}f}"


def report(res):
    lines = []
    for key, v in res["stats"].items():
        stat, label = key.split("/")
        lines.append(f"\n### {NAMES[stat]}, {'initialisation' if label == 'init' else 'end of training'} (N_b = {v['N_b']})\n")
        head = "| N | draws | count per entry (mean) | SD | SE | 95% t-interval | log(s_0/N_b^2)/log N_b [95%] |"
        sep = "|---|---|---|---|---|---|---|"
        if stat == "cc":
            head += " slope across N_b [95%] |"
            sep += "---|"
        lines += [head, sep]
        for r in v["rows"]:
            s = (f"| {r['N']:,} | {r['draws']} | {fmt(r['mean'])} | {fmt(r['sd'])} | {fmt(r['se'])} | "
                 f"[{fmt(r['lo'])}, {fmt(r['hi'])}] | {fmt(r['single_nb'])} [{fmt(r['single_nb_lo'])}, {fmt(r['single_nb_hi'])}] |")
            if stat == "cc":
                s += f" {fmt(r.get('nb_slope'))} [{fmt(r.get('nb_slope_lo'))}, {fmt(r.get('nb_slope_hi'))}] |"
            lines.append(s)
        f = v["fit"]
        if f and math.isfinite(f["a"]):
            lines.append(f"\nexponent of N: a = {fmt(f['a'])} (bootstrap 95% [{fmt(f['boot_lo'])}, {fmt(f['boot_hi'])}]; "
                         f"per-draw fits ({f['draw_fits']}) t-interval [{fmt(f['t_lo'])}, {fmt(f['t_hi'])}]); "
                         f"slope of the count per entry against N {fmt(f['slope'])}; the paper: a = {f['paper_a']}")
    if res["geometry"]:
        lines.append("\n### geometry of the correlated pairs (every draw where the run wrote cc/geometry, else the first "
                     "draw's cc/full; fraction of the pairs, in brackets the null fraction)\n")
        lines.append("| N | seed | epoch | draws | pairs | " + " | ".join(f"{g} [null]" for g in GEOMETRY) + " |")
        lines.append("|---|---|---|---|---|" + "---|" * len(GEOMETRY))
        for g in res["geometry"]:
            tot = sum(g["pairs"])
            cells = [f"{fmt(c / tot if tot else math.nan)} [{fmt(n)}]" for c, n in zip(g["pairs"], g["null_fraction"])]
            lines.append(f"| {g['N']:,} | {g['seed']} | {g['epoch']} | {g.get('draws', 1)} | {int(tot)} | " + " | ".join(cells) + " |")
    for label, fit in res.get("geometry_fit", {}).items():
        lines.append(f"\nexponent of N by geometry, {'initialisation' if label == 'init' else 'end of training'} "
                     f"(per run: the mean over its draws with geometry; 95% t-interval of the regression, not over draws):")
        for name, f in fit.items():
            counts = ", ".join(fmt(c) for c in f["per_entry"])
            lines.append(f"- {name.replace('_', ' ')}: count per entry {counts}; a = {fmt(f['a'])} [{fmt(f['lo'])}, {fmt(f['hi'])}]")
    return "\n".join(lines)


def figure(res, outdir):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 3, figsize=(13, 4))
    for ax, stat in zip(axes, STATS):
        for label, col in (("init", "tab:blue"), ("end", "tab:red")):
            v = res["stats"].get(f"{stat}/{label}")
            if not v:
                continue
            N = np.array([r["N"] for r in v["rows"]], float)
            m = np.array([r["mean"] for r in v["rows"]])
            lo = np.array([r["lo"] for r in v["rows"]])
            hi = np.array([r["hi"] for r in v["rows"]])
            ax.errorbar(N, m, yerr=[m - lo, hi - m], fmt="o", color=col, capsize=3,
                        label=f"{'initialisation' if label == 'init' else 'end'} (95% t-interval)")
            f = v["fit"]
            if f and math.isfinite(f["a"]):
                b = f["slope"]
                c0 = np.exp(np.mean(np.log(m)) - b * np.mean(np.log(N)))
                ax.plot(N, c0 * N ** b, "-", color=col, lw=1,
                        label=f"fit a = {f['a']:.2f}, bootstrap 95% [{f['boot_lo']:.2f}, {f['boot_hi']:.2f}]")
                pb = PAPER_A[stat] - 2 * (ORDER[stat] - 1)
                c1 = np.exp(np.mean(np.log(m)) - pb * np.mean(np.log(N)))
                ax.plot(N, c1 * N ** pb, ":", color=col, lw=1, label=f"the paper's a = {PAPER_A[stat]} (through the means)" if label == "end" else None)
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("N (parameters)")
        ax.set_ylabel("count per entry s_0 / N_b^2")
        ax.set_title(NAMES[stat])
        ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(os.path.join(outdir, "nscaling.png"), dpi=120)
    plt.close(fig)


def main(argv=None):
    p = argparse.ArgumentParser(prog="nscaling.py", description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("results", nargs="+", metavar="RESULTS.h5")
    p.add_argument("--out", default="nscaling", metavar="DIR", help="where nscaling.json and nscaling.png go")
    p.add_argument("--bootstrap", type=int, default=2000, help="bootstrap resamples (default 2000)")
    p.add_argument("--no-figure", action="store_true")
    p.add_argument("--counts-out", metavar="FILE.json", help="also write the runs' per-draw counts and geometry here "
                   "(read back as an input in place of the results files)")
    a = p.parse_args(argv)
    try:
        res = analyse(a.results, a.bootstrap)
    except NScalingError as e:
        print(f"nscaling.py: error: {e}", file=sys.stderr)
        return 1
    os.makedirs(a.out, exist_ok=True)
    counts = res.pop("counts")
    with open(os.path.join(a.out, "nscaling.json"), "w") as f:
        json.dump(res, f, indent=1, default=float)
    if a.counts_out:
        with open(a.counts_out, "w") as f:
            json.dump(counts, f, indent=None, separators=(",", ":"), default=float)
    if not a.no_figure:
        figure(res, a.out)
    print(report(res))
    return 0


if __name__ == "__main__":
    sys.exit(main())
