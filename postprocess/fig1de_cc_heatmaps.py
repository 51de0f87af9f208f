#!/usr/bin/python3
"""Fig. 1d/1e: heat maps of the stored correlation-coefficient submatrices of
Hessian entries (a uniformly sampled set of the first draw's N_b^2 entries),
at the first and the last epoch with coupling statistics (or chosen ones), on
a diverging colour scale over [-1, 1]. One row per results file. Entries that
were constant across the batches (nncas leaves them out and stores 0, also on
the diagonal) are drawn grey.

    fig1de_cc_heatmaps.py runs/vgg/results.h5 --out figures
    fig1de_cc_heatmaps.py runs/vgg/results.h5 --epochs 0,10,20 --out figures
"""
import sys

import numpy as np

if __package__:  # imported as nncas_post.fig1de_cc_heatmaps (pyproject.toml, the installed tree)
    from . import cli
    from . import plotting
    from . import reading
else:  # run as python3 postprocess/fig1de_cc_heatmaps.py, or postprocess/ on sys.path
    import cli
    import plotting
    import reading

READS = ("/coupling/epoch_EEEE/cc/submatrix and submatrix_variables, the attributes threshold and N_b of "
         "/coupling/epoch_EEEE/cc")
STEM = "fig1de_cc_heatmaps"
NEEDS = ("coupling",)  # groups every file must have
CMAP = "RdBu_r"


def constant_mask(sub):
    """True for the variables (rows/columns) that were constant: nncas stores 0 on their diagonal."""
    return np.abs(np.diag(sub)) < 0.5


def panel_data(res, epochs=None):
    """[(epoch, submatrix, constant, attrs)] of the epochs to draw (default: first and last)."""
    have = res.coupling_epochs()
    if not have:
        raise reading.ResultsError(f"{res.path}: /coupling holds no epoch_EEEE group")
    if epochs is None:
        epochs = sorted({have[0], have[-1]})
    missing = [e for e in epochs if e not in have]
    if missing:
        raise reading.ResultsError(f"{res.path} has no coupling statistics at epoch(s) {missing} (it has {have})")
    out = []
    for e in epochs:
        sub, _ = res.cc_submatrix(e)
        a = res.coupling_group(e, "cc").attrs
        out.append((e, sub, constant_mask(sub), {k: reading.decode_attr(v) for k, v in a.items()}))
    return out


def draw(results, epochs=None, mask_constant=True):
    """Rows: files; columns: epochs; returns the matplotlib Figure. Each panel
    is one AxesImage whose data is the stored submatrix (a masked array: the
    constant variables masked when mask_constant)."""
    import matplotlib.pyplot as plt

    data = [panel_data(r, epochs) for r in results]
    ncol = max(len(d) for d in data)
    cmap = plt.get_cmap(CMAP).copy()
    cmap.set_bad("0.78")
    with plotting.style():
        fig, axes = plt.subplots(len(results), ncol, figsize=(3.6 * ncol + 0.8, 3.7 * len(results)),
                                 squeeze=False, constrained_layout=True)
        im = None
        for row, res, d in zip(axes, results, data):
            for ax, (e, sub, const, a) in zip(row, d):
                m = len(sub)
                rows = np.zeros_like(sub, dtype=bool)
                if mask_constant:
                    rows = const[:, None] | const[None, :]
                im = ax.imshow(np.ma.masked_array(sub, mask=rows), cmap=cmap, vmin=-1, vmax=1,
                               interpolation="nearest", origin="upper")
                ax.grid(False)
                nb = a.get("N_b")
                thr = a.get("threshold")
                valid = ~const
                off = valid[:, None] & valid[None, :] & ~np.eye(m, dtype=bool)
                frac = (np.abs(sub[off]) > thr).mean() if thr is not None and off.any() else float("nan")
                ax.set_title(f"{res.label}: epoch {e}", fontsize=10)
                lines = [f"{m} of N_b² = {nb * nb if nb else '?'} entries; {int(const.sum())} constant (grey)"]
                if thr is not None and off.any():
                    lines.append(f"|r| > {thr:g}: {100 * frac:.1f}% of the {int(off.sum())} off-diagonal pairs")
                elif thr is not None:
                    lines.append("no pair of non-constant entries")
                ax.set_xlabel("\n".join(lines), fontsize=8)
                ax.set_xticks([0, m - 1])
                ax.set_yticks([0, m - 1])
                if const.all():
                    ax.text(0.5, 0.5, "every sampled entry\nwas constant", transform=ax.transAxes,
                            ha="center", va="center", fontsize=9, color="0.2")
            for ax in row[len(d):]:
                ax.set_visible(False)
        cb = fig.colorbar(im, ax=axes.ravel().tolist(), shrink=0.85, aspect=30)
        cb.set_label("correlation coefficient of Hessian entries")
    return fig


def main(argv=None):
    p = cli.make_parser("fig1de_cc_heatmaps.py", __doc__.split("\n\n")[0], READS)
    cli.add_common_arguments(p)
    p.add_argument("--epochs", metavar="E,E,...",
                   help="epochs to draw (default: the first and the last with coupling statistics)")
    p.add_argument("--no-mask", action="store_true", help="draw constant entries as the stored 0 instead of grey")

    def draw_args(results, a):
        epochs = [int(e) for e in a.epochs.split(",")] if a.epochs else None
        return draw(results, epochs, not a.no_mask)

    return cli.figure_main("fig1de_cc_heatmaps.py", p, STEM, draw_args, argv)


if __name__ == "__main__":
    main(sys.argv[1:])
