#!/usr/bin/python3
"""Fig. 5: histograms of the null statistics of Algorithm 3 (correlation
coefficients, skewness and excess kurtosis of n observations of N_b^2
independent N(0, 1) variables, first null draw), one panel per statistic,
with the thresholds +-theta marked and the null count above them (mean +- SE
over the null draws, Table 2) in the legend. Several files: one colour each.

    fig5_null.py runs/vgg/results.h5 --out figures
"""
import sys

import numpy as np

if __package__:  # imported as nncas_post.fig5_null (pyproject.toml, the installed tree)
    from . import cli
    from . import plotting
    from . import reading
else:  # run as python3 postprocess/fig5_null.py, or postprocess/ on sys.path
    import cli
    import plotting
    import reading

READS = ("/coupling/null/{cc,skewness,kurtosis}: histogram (attributes lo, hi), counts, and the attributes "
         "threshold, count_mean, count_standard_error, target, N_b, n")
STEM = "fig5_null"
NEEDS = ("coupling/null",)  # groups every file must have
XLABEL = {"cc": "correlation coefficient", "skewness": "skewness", "kurtosis": "excess kurtosis"}


def panel_data(res, stats):
    out = []
    for s in stats:
        d = res.coupling_null(s)
        if "histogram" not in d:
            raise reading.ResultsError(f"{res.path}: /coupling/null/{s} has no histogram")
        out.append((s, d))
    return out


def null_label(d):
    """'null count 16.00 ± 1.67 SE (B = 5)': Table 2's s_0."""
    se = float(d.get("count_standard_error", np.nan))
    return (f"null count {float(d['count_mean']):.2f}" + (f" ± {se:.2f} SE" if np.isfinite(se) else "")
            + f" (B = {len(d['counts'])})")


def draw(results, stats=reading.STATS, logy=True):
    """One panel per statistic: the stored histogram as a step curve (a
    StepPatch whose values are the stored counts; the end bins also hold the
    values beyond [lo, hi]), the thresholds as vertical lines; returns the Figure."""
    import matplotlib.pyplot as plt

    data = [panel_data(r, stats) for r in results]
    several = len(results) > 1
    with plotting.style():
        fig, axes = plt.subplots(1, len(stats), figsize=(plotting.PANEL_SIZE[0] * len(stats), plotting.PANEL_SIZE[1] + 0.2),
                                 squeeze=False, constrained_layout=True)
        for j, (ax, s) in enumerate(zip(axes[0], stats)):
            top = 0
            for res, d_all, color in zip(results, data, plotting.run_colors(len(results))):
                d = d_all[j][1]
                h, edges = d["histogram"], d["edges"]
                pre = f"{res.label}: " if several else ""
                ax.stairs(h, edges, color=color, lw=1.0, baseline=None,
                          label=f"{pre}null statistics (N_b = {int(d['N_b'])}, n = {int(d['n'])})")
                thr = float(d["threshold"])
                ax.axvline(thr, color=color, ls="--", lw=1.0, label=f"{pre}threshold ±{thr:g}: {null_label(d)}")
                ax.axvline(-thr, color=color, ls="--", lw=1.0, label="_threshold")
                top = max(top, h.max())
                ends = h[0] + h[-1]
                if ends > 0:
                    ax.text(0.99, 0.02, f"{int(ends)} at |x| ≥ {edges[-1]:g} in the end bins", transform=ax.transAxes,
                            ha="right", va="bottom", fontsize=7, color="0.4")
            if logy:
                ax.set_yscale("log")
                ax.set_ylim(0.5, top * 8)
            else:
                ax.set_ylim(0, top * 1.25)
            ax.set_xlim(edges[0], edges[-1])
            ax.set_xlabel(XLABEL[s])
            ax.set_ylabel("count (first null draw)" if j == 0 else "")
            tg = data[0][j][1].get("target")
            ax.set_title(f"({'abc'[j]}) {reading.STAT_NAMES[s]}"
                         + (f"  (target / 100 = {float(tg) / 100:.3g})" if tg is not None else ""))
            ax.legend(frameon=False, fontsize=7, loc="upper left")
    return fig


def main(argv=None):
    p = cli.make_parser("fig5_null.py", __doc__.split("\n\n")[0], READS)
    cli.add_common_arguments(p)
    p.add_argument("--linear", action="store_true", help="linear count axis (default: logarithmic)")

    return cli.figure_main("fig5_null.py", p, STEM, lambda results, a: draw(results, logy=not a.linear), argv)


if __name__ == "__main__":
    main(sys.argv[1:])
