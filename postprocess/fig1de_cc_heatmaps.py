#!/usr/bin/python3
"""Fig. 1d/1e: heat maps of the stored correlation-coefficient submatrices of
Hessian entries (a uniformly sampled set of the first draw's N_b^2 entries),
at the first and the last epoch with coupling statistics (or chosen ones), on
a diverging colour scale over [-1, 1]. One row per results file.

As the paper's heat map: a uniform sample of all the N_b^2 sampled entries,
the ones constant across the batches (no correlation: zero rows and columns,
as the paper draws them) included at their share. nncas stores the submatrix among
the entries that vary (m of them) and the number of constant entries of the
first draw (`constant_variables`, a fraction f of N_b^2): a panel of
-coupling_submatrix entries keeps the first round(size (1 - f)) of the stored
varying ones (a uniform sample of them) and adds the rest as constant, zero
rows and columns at the positions of a fixed pseudo-random order, each marked
by a black tick on the left and top edges. With --varying-only, the stored
submatrix alone (constant variables, if any, grey).

    fig1de_cc_heatmaps.py runs/vgg/results.h5 --out figures
    fig1de_cc_heatmaps.py runs/vgg/results.h5 --epochs 0,10,20 --varying-only --out figures
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

READS = ("/coupling/epoch_EEEE/cc/submatrix and submatrix_variables, constant_variables (the first draw's), "
         "the attributes threshold and N_b of /coupling/epoch_EEEE/cc")
STEM = "fig1de_cc_heatmaps"
NEEDS = ("coupling",)  # groups every file must have
CMAP = "RdBu_r"
SUBMATRIX_DEFAULT = 100  # nncas's -coupling_submatrix


def constant_mask(sub):
    """True for the variables (rows/columns) that were constant: nncas stores 0 on their diagonal."""
    return np.abs(np.diag(sub)) < 0.5


def with_constant_entries(sub, n_const, nb, size, seed=0):
    """(matrix, constant): a uniform sample of `size` of all N_b^2 entries made
    from the stored submatrix of the m varying ones (a uniform sample of them):
    round(size (1 - f)) varying entries, the first of the stored ones, and the
    rest constant (zero rows and columns), f = n_const / N_b^2, in a fixed
    pseudo-random order; constant[k] says which rows are constant."""
    m = len(sub)
    size = min(int(size), nb * nb)
    kv = min(m, int(round(size * (1 - n_const / float(nb * nb)))))
    const = np.ones(size, dtype=bool)
    const[np.random.default_rng(seed).permutation(size)[:kv]] = False
    keep = np.flatnonzero(~const)
    out = np.zeros((size, size))
    out[np.ix_(keep, keep)] = sub[:kv, :kv]
    return out, const


def panel_data(res, epochs=None, varying_only=False):
    """[(epoch, matrix, constant, attrs)] of the epochs to draw (default: first
    and last): the stored submatrix (varying_only) or, as the paper draws it,
    a uniform sample of all entries with the constant ones as zeros."""
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
        g = res.coupling_group(e, "cc")
        a = {k: reading.decode_attr(v) for k, v in g.attrs.items()}
        if varying_only or "constant_variables" not in g:
            const = constant_mask(sub)
        else:
            size = int(res.option("coupling_submatrix") or SUBMATRIX_DEFAULT)
            sub, const = with_constant_entries(sub, float(g["constant_variables"][0]), int(a["N_b"]), size, seed=e)
        out.append((e, sub, const, a))
    return out


def _panel_text(ax, m, nb, const, a, varying_only):
    thr = a.get("threshold")
    valid = ~const
    off = valid[:, None] & valid[None, :] & ~np.eye(m, dtype=bool)
    if varying_only:
        lines = [f"{m} of the varying entries of N_b² = {nb * nb if nb else '?'}; {int(const.sum())} constant (grey)"]
    else:
        lines = [f"{m} of N_b² = {nb * nb if nb else '?'} entries; {int(const.sum())} constant (0, ticked)"]
    if thr is not None and off.any():
        frac = (np.abs(ax.images[0].get_array().data[off]) > thr).mean()
        lines.append(f"|r| > {thr:g}: {100 * frac:.1f}% of the {int(off.sum())} varying off-diagonal pairs")
    elif thr is not None:
        lines.append("no pair of non-constant entries")
    ax.set_xlabel("\n".join(lines), fontsize=8)


def _mark_constant(ax, const):
    """A black tick outside the left and top edges at each constant row/column."""
    import matplotlib.transforms as mtransforms

    k = np.flatnonzero(const)
    if not len(k):
        return
    left = mtransforms.blended_transform_factory(ax.transAxes, ax.transData)
    top = mtransforms.blended_transform_factory(ax.transData, ax.transAxes)
    ax.plot(np.full(len(k), -0.02), k, transform=left, ls="none", marker="_", ms=4, color="k", clip_on=False,
            label="_constant_rows")
    ax.plot(k, np.full(len(k), 1.02), transform=top, ls="none", marker="|", ms=4, color="k", clip_on=False,
            label="_constant_columns")


def draw(results, epochs=None, varying_only=False):
    """Rows: files; columns: epochs; returns the matplotlib Figure. Each panel
    is one AxesImage: a uniform sample of all entries with the constant ones
    as zero rows and columns (ticked), or with varying_only the stored
    submatrix (a masked array, constant variables masked)."""
    import matplotlib.pyplot as plt

    data = [panel_data(r, epochs, varying_only) for r in results]
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
                mask = const[:, None] | const[None, :] if varying_only else np.zeros_like(sub, dtype=bool)
                im = ax.imshow(np.ma.masked_array(sub, mask=mask), cmap=cmap, vmin=-1, vmax=1,
                               interpolation="nearest", origin="upper")
                ax.grid(False)
                ax.set_title(f"{res.label}: epoch {e}", fontsize=10, pad=10)
                _panel_text(ax, m, a.get("N_b"), const, a, varying_only)
                if not varying_only:
                    _mark_constant(ax, const)
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
    p.add_argument("--varying-only", action="store_true",
                   help="draw the stored submatrix among the varying entries only (not the paper's view)")

    def draw_args(results, a):
        epochs = [int(e) for e in a.epochs.split(",")] if a.epochs else None
        return draw(results, epochs, a.varying_only)

    return cli.figure_main("fig1de_cc_heatmaps.py", p, STEM, draw_args, argv)


if __name__ == "__main__":
    main(sys.argv[1:])
