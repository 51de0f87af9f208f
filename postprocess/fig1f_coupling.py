#!/usr/bin/python3
"""Fig. 1f and Fig. 6: the mean count per Hessian entry of non-zero correlation
coefficients, skewness and excess kurtosis (Algorithm 1) against epoch, (a) as
counts on a log axis and (b) as exponents of N_b (Fig. 1f), with bands of
+- one standard deviation over the bootstrap draws (as the paper's Fig. 6a;
--band se for one standard error), the legend saying which. Panel (b) also
marks the exponents the paper reports at the end of training (3/2, 3, 9/2 for
its VGG with BN: drawn only when a file's network has batch normalization,
`bn` in its layers), a light line
at the exponent of all statistics counted over (total / N_b^2) and, at the
right, the ratio count / total at the last epoch. Panel (a) marks, dashed, the
chance level: Algorithm 3's null fraction at the same threshold times the
total. Several files: one line style per file. When a file holds the
correlation counts at several N_b (-coupling_nb 10,20,50,100), a panel (c)
shows the count per entry against N_b on log-log axes at the last epoch
(mean over the draws +- one standard error, per N_b^2 filled and per varying
entry hollow) with the exponent fitted across the N_b (mean slope over the
draws +- its standard error) beside the single-N_b conversion of panel (b).

    fig1f_coupling.py runs/vgg/results.h5 --out figures
"""
import sys

import numpy as np

if __package__:  # imported as nncas_post.fig1f_coupling (pyproject.toml, the installed tree)
    from . import cli
    from . import plotting
    from . import reading
else:  # run as python3 postprocess/fig1f_coupling.py, or postprocess/ on sys.path
    import cli
    import plotting
    import reading

READS = ("/coupling/epoch_EEEE/{cc,skewness,kurtosis} (counts, per_entry, total, constant_variables; attributes "
         "N_b, threshold, per_entry_mean, per_entry_standard_error, exponent_mean, exponent_standard_error), "
         "and /coupling/null/{cc,skewness,kurtosis} (attributes count_mean, threshold; histogram) when present; "
         "/coupling/epoch_EEEE/cc (nb, counts_by_nb, varying_by_nb; attributes fit_exponent, fit_exponent_standard_error, "
         "fit_exponent_of_mean, fit_exponent_varying, ...) when -coupling_nb had several values")
STEM = "fig1f_coupling"
NEEDS = ("coupling",)  # groups every file must have
COLORS = {"cc": "C3", "skewness": "C0", "kurtosis": "C2"}
# distinct markers (hollow after the first), so that coinciding statistics stay visible
MARKERS = {"cc": dict(marker="o", ms=3, zorder=2.3), "skewness": dict(marker="s", ms=4, mfc="none", zorder=2.2),
           "kurtosis": dict(marker="^", ms=8, mfc="none", zorder=2.1)}
# exponents of N (here N_b) of the mean non-zero count per entry at the end of
# training reported in Sec. 5.1 (VGG on CIFAR-10): N^{3/2}, N^3, N^{9/2}
PAPER_EXPONENTS = {"cc": 1.5, "skewness": 3.0, "kurtosis": 4.5}
PAPER_TEXT = {"cc": "3/2", "skewness": "3", "kurtosis": "9/2"}
STYLES = ["-", "--", ":", "-."]


def _mean_se(x):
    x = np.asarray(x, dtype=float)
    return x.mean(), (x.std(ddof=1) / np.sqrt(len(x)) if len(x) > 1 else float("nan"))


def series(res, stat):
    """Per epoch arrays of one statistic: epoch, mean, se and sd (per entry, over
    the draws: sd = se sqrt(B)), exponent, exponent_se, exponent_sd, total_exponent (of the mean total per entry), ratio (sum of
    counts / sum of totals over the draws), constant (mean constant variables),
    chance (the null's expected count per entry, NaN without /coupling/null),
    N_b, threshold."""
    epochs = res.coupling_epochs()
    if not epochs:
        raise reading.ResultsError(f"{res.path}: /coupling holds no epoch_EEEE group")
    null_frac, null_thr = None, None
    if res.has("coupling/null") and stat in res.f["coupling/null"]:
        nl = res.coupling_null(stat)
        ntot = nl["histogram"].sum() if "histogram" in nl else None
        if ntot:
            null_frac, null_thr = float(nl["count_mean"]) / ntot, float(nl["threshold"])
    cols = {k: [] for k in ("epoch", "mean", "se", "sd", "exponent", "exponent_se", "exponent_sd", "total_exponent",
                            "ratio", "constant", "chance")}
    nb = thr = None
    for e in epochs:
        d = res.coupling(e, stat)
        nb, thr = int(d["N_b"]), float(d.get("threshold", np.nan))
        m, se = _mean_se(d["per_entry"])
        m = float(d.get("per_entry_mean", m))
        se = float(d.get("per_entry_standard_error", se))
        lg = np.log(nb)
        ex = float(d.get("exponent_mean", np.log(m) / lg if m > 0 else np.nan))
        exse = float(d.get("exponent_standard_error", se / (m * lg) if m > 0 else np.nan))
        tot = float(np.mean(d["total"])) / nb**2
        cols["epoch"].append(e)
        cols["mean"].append(m)
        root_b = np.sqrt(len(d["per_entry"]))
        cols["se"].append(se)
        cols["sd"].append(se * root_b)
        cols["exponent"].append(ex)
        cols["exponent_se"].append(exse)
        cols["exponent_sd"].append(exse * root_b)
        cols["total_exponent"].append(np.log(tot) / lg if tot > 0 else np.nan)
        cols["ratio"].append(d["counts"].sum() / d["total"].sum() if d["total"].sum() > 0 else np.nan)
        cols["constant"].append(float(np.mean(d.get("constant_variables", [np.nan]))))
        cols["chance"].append(null_frac * tot if null_frac is not None and null_thr == thr else np.nan)
    out = {k: np.asarray(v, dtype=float) for k, v in cols.items()}
    out["N_b"], out["threshold"], out["draws"] = nb, thr, len(d["per_entry"])
    return out


def nb_series(res, epoch):
    """The correlation counts at several N_b at one epoch, or None (one N_b,
    or a file from before -coupling_nb took a list): nb, the mean and standard
    error over the draws of s_0 / N_b^2 and of s_0 / V, and the fit attributes."""
    d = res.coupling(epoch, "cc")
    if "nb" not in d or len(d["nb"]) < 2:
        return None
    nb = np.asarray(d["nb"], dtype=float)
    c, v = np.asarray(d["counts_by_nb"], dtype=float), np.asarray(d["varying_by_nb"], dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        per_v = np.where(v > 0, c / v, np.nan)
    out = {"nb": nb, "epoch": epoch}
    for name, y in (("entry", c / nb**2), ("varying", per_v)):
        m = np.nanmean(y, axis=0)
        k = np.sum(np.isfinite(y), axis=0)
        with np.errstate(invalid="ignore", divide="ignore"):
            se = np.where(k > 1, np.nanstd(y, axis=0, ddof=min(1, len(y) - 1)) / np.sqrt(np.maximum(k, 1)), np.nan)
        out[name], out[name + "_se"] = m, se
    for key in ("fit_exponent", "fit_exponent_standard_error", "fit_exponent_of_mean", "fit_exponent_varying",
                "fit_exponent_varying_standard_error", "exponent_mean"):
        out[key] = float(d.get(key, np.nan))
    return out


def _draw_nb_panel(ax, results, several):
    """(c): the count per entry against N_b (log-log) at each file's last epoch, with the fitted exponents."""
    for k, res in enumerate(results):
        sr = nb_series(res, res.coupling_epochs()[-1])
        if sr is None:
            continue
        ls = STYLES[k % len(STYLES)]
        pre = f"{res.label}: " if several else ""
        for name, mfc, key in (("entry", None, "fit_exponent"), ("varying", "none", "fit_exponent_varying")):
            m, se, nb = sr[name], sr[name + "_se"], sr["nb"]
            ok = m > 0
            if not ok.any():
                continue
            se = np.where(np.isfinite(se), se, 0)
            ax.errorbar(nb[ok], m[ok], yerr=np.minimum(se[ok], 0.95 * m[ok]), color=COLORS["cc"], ls="none", marker="o",
                        ms=4, mfc=mfc, capsize=2)
            e, ee = sr[key], sr[key + "_standard_error"]
            ref = np.exp(np.mean(np.log(m[ok])) - e * np.mean(np.log(nb[ok]))) if np.isfinite(e) else np.nan
            what = "s₀/N_b²" if name == "entry" else "s₀/V (varying)"
            err = f" ± {ee:.2f} SE" if np.isfinite(ee) else ""
            ax.plot(nb, ref * nb**e, color=COLORS["cc"], ls=ls, lw=1, alpha=0.8 if name == "entry" else 0.4,
                    label=f"{pre}{what}: fitted N_b^{e:.2f}{err}")
        ax.plot([], [], ls="none", label=f"{pre}single-N_b conversion at N_b = {int(sr['nb'][-1])}: {sr['exponent_mean']:.2f}")
        ax.set_title(f"(c) count per entry against N_b (epoch {sr['epoch']})")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("N_b")
    ax.set_ylabel("correlated entries per entry")
    ax.legend(frameon=False, fontsize=7, loc="best")


def draw(results, stats=reading.STATS, chance=True, paper=True, band="sd"):
    """Two panels, (a) mean non-zero count per entry (log axis) and (b) its
    exponent of N_b, one line per (file, statistic) with a band of +- one SD
    (band="sd") or SE (band="se") over the draws;
    returns the matplotlib Figure. Epochs where a mean count is 0 (exponent
    -inf) are left out of the lines and marked by a triangle at the bottom."""
    import matplotlib.pyplot as plt
    import matplotlib.transforms as mtransforms
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    data = [[(s, series(r, s)) for s in stats] for r in results]
    paper = paper and any(reading.has_batch_norm(r) for r in results)  # the paper's exponents are its VGG with BN's
    with_nb = "cc" in stats and any(nb_series(r, r.coupling_epochs()[-1]) is not None for r in results)
    with plotting.style():
        npanel = 3 if with_nb else 2
        fig, axes = plt.subplots(1, npanel, figsize=(npanel * plotting.PANEL_SIZE[0] + 0.6, plotting.PANEL_SIZE[1] + 0.3),
                                 constrained_layout=True)
        axa, axb = axes[0], axes[1]
        if with_nb:
            _draw_nb_panel(axes[2], results, len(results) > 1)
        several = len(results) > 1
        pos = [v for d in data for _, sr in d for v in sr["mean"] if v > 0]
        lowest = min(pos) / 5 if pos else 1e-3
        last = max(sr["epoch"][-1] for d in data for _, sr in d)
        first = min(sr["epoch"][0] for d in data for _, sr in d)
        span = max(last - first, 1)
        bottom = mtransforms.blended_transform_factory(axa.transData, axa.transAxes)
        zero_marked = False
        notes = []  # (x, y, text, colour): the ratios count / total at the right of (b)
        for k, (res, d) in enumerate(zip(results, data)):
            ls = STYLES[k % len(STYLES)]
            for s, sr in d:
                c = COLORS[s]
                lab = f"{reading.STAT_NAMES[s]} (N_b = {sr['N_b']}, |·| > {sr['threshold']:g})"
                if several:
                    lab = f"{res.label}: {lab}"
                x, m, se = sr["epoch"], sr["mean"], sr[band]
                ok = m > 0
                axa.plot(x[ok], m[ok], color=c, ls=ls, label=lab, **MARKERS[s])
                shown = ok & np.isfinite(se)
                if shown.any():
                    axa.fill_between(x[shown], np.maximum(m[shown] - se[shown], lowest), m[shown] + se[shown],
                                     color=c, alpha=0.18, lw=0)
                if (~ok).any():
                    zero_marked = True
                    axa.plot(x[~ok], np.full((~ok).sum(), 0.02), transform=bottom, ls="none", marker="v",
                             ms=6, color=c, mfc="none", clip_on=False, label="_zero")
                if chance and np.isfinite(sr["chance"]).any():
                    axa.plot(x, sr["chance"], color=c, ls=(0, (2, 2)), lw=0.9, alpha=0.7, label="_chance")
                # (b) exponents
                ex, exse = sr["exponent"], sr["exponent_" + band]
                fin = np.isfinite(ex)
                axb.plot(x[fin], ex[fin], color=c, ls=ls, label=lab, **MARKERS[s])
                shown = fin & np.isfinite(exse)
                if shown.any():
                    axb.fill_between(x[shown], ex[shown] - exse[shown], ex[shown] + exse[shown], color=c, alpha=0.18, lw=0)
                te = sr["total_exponent"]
                tf = np.isfinite(te)
                if tf.any():
                    axb.plot(x[tf], te[tf], color=c, ls=ls, lw=3, alpha=0.25, solid_capstyle="butt", label="_total")
                    if np.isfinite(te[-1]):
                        r = sr["ratio"][-1]
                        notes.append([x[-1], te[-1], f"{r:.2g}" if np.isfinite(r) else "-", c])
        if paper:
            for s in stats:
                axb.axhline(PAPER_EXPONENTS[s], color=COLORS[s], ls=":", lw=1.0, label="_paper")
                axb.annotate(f"paper (VGG, BN): {PAPER_TEXT[s]}", (first, PAPER_EXPONENTS[s]), xytext=(0, 2),
                             textcoords="offset points", color=COLORS[s], fontsize=7, va="bottom")
        if notes:  # spread the ratio labels apart where they would overlap
            lo, hi = axb.get_ylim()
            gap = 0.055 * (hi - lo)
            notes.sort(key=lambda n: n[1])
            ys = [n[1] for n in notes]
            for i in range(1, len(ys)):
                ys[i] = max(ys[i], ys[i - 1] + gap)
            right = mtransforms.offset_copy(axb.transData, fig, x=5, units="points")
            for (x, y, text, c), yt in zip(notes, ys):
                axb.text(x, yt, text, transform=right, color=c, fontsize=8, va="center", ha="left")
        axa.set_yscale("log")
        axa.set_ylim(bottom=lowest)
        axa.set_ylabel("non-zero count per entry  (s₀ / N_b²)")
        axb.set_ylabel(r"exponent of $N_b$ of the count per entry")
        for ax in (axa, axb):
            ax.set_xlabel("epoch")
            ax.set_xlim(first - 0.03 * span, last + (0.16 if ax is axb else 0.03) * span)
            ax.xaxis.get_major_locator().set_params(integer=True)
        axa.set_title("(a) non-zero statistics per Hessian entry")
        axb.set_title(r"(b) as exponents of $N_b$ (Fig. 1f)")
        h, lab = axa.get_legend_handles_labels()
        extra = []
        if zero_marked:
            extra.append(Line2D([], [], color="0.3", ls="none", marker="v", mfc="none", label="count 0 at this epoch"))
        if chance and any(np.isfinite(sr["chance"]).any() for d in data for _, sr in d):
            extra.append(Line2D([], [], color="0.3", ls=(0, (2, 2)), lw=0.9, label="chance level (Alg. 3 null)"))
        draws = sorted({sr["draws"] for d in data for _, sr in d})
        extra.append(Patch(color="0.5", alpha=0.3, lw=0, label=f"band: ± 1 {band.upper()} over the B = "
                           f"{', '.join(map(str, draws))} draws"))
        axa.legend(handles=h + extra, frameon=False, fontsize=7, loc="best")
        hb = [Line2D([], [], color="0.5", lw=3, alpha=0.35, label="all statistics (total / N_b²); ratio at right")]
        if paper:
            hb.append(Line2D([], [], color="0.3", ls=":", label="paper, end of training (its VGG with BN)"))
        axb.legend(handles=hb, frameon=False, fontsize=7, loc="best")
    return fig


def main(argv=None):
    p = cli.make_parser("fig1f_coupling.py", __doc__.split("\n\n")[0], READS)
    cli.add_common_arguments(p)
    p.add_argument("--stats", metavar="S,S,...", default=",".join(reading.STATS),
                   help="statistics to draw, of cc, skewness, kurtosis (default: all three)")
    p.add_argument("--no-chance", action="store_true", help="do not draw the chance level of Algorithm 3's null")
    p.add_argument("--no-paper", action="store_true", help="do not mark the paper's exponents 3/2, 3, 9/2")
    p.add_argument("--band", choices=("sd", "se"), default="sd",
                   help="bands of one standard deviation over the draws (the paper's Fig. 6a, default) or one standard error")

    def check(a):
        bad = [s for s in a.stats.split(",") if s not in reading.STATS]
        if bad:
            p.error(f"--stats: unknown {', '.join(bad)} (choose from {', '.join(reading.STATS)})")

    return cli.figure_main("fig1f_coupling.py", p, STEM,
                           lambda results, a: draw(results, a.stats.split(","), not a.no_chance, not a.no_paper, a.band), argv,
                           check)


if __name__ == "__main__":
    main(sys.argv[1:])
