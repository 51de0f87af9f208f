#!/usr/bin/python3
"""Fig. 1c: training and validation loss and accuracy against epoch, one
colour per results file (solid: training, dashed: validation). The loss panel
also marks the risk on the Hessian's samples at the epochs with a spectrum.

    fig1c_curves.py runs/lenet/results.h5 runs/vgg/results.h5 --labels LeNet,VGG --out figures
"""
import sys

import numpy as np

if __package__:  # imported as nncas_post.fig1c_curves (pyproject.toml, the installed tree)
    from . import cli
    from . import plotting
    from . import reading
else:  # run as python3 postprocess/fig1c_curves.py, or postprocess/ on sys.path
    import cli
    import plotting
    import reading

READS = ("/training (epoch, train_loss, train_acc, val_loss, val_acc); the attribute risk of "
         "/spectrum/epoch_EEEE when present")
STEM = "fig1c_curves"
NEEDS = ("training",)  # groups every file must have
NEEDED = ("epoch", "train_loss", "train_acc", "val_loss", "val_acc")


def read(res):
    c = res.curves()
    missing = [k for k in NEEDED if k not in c]
    if missing:
        raise reading.ResultsError(f"{res.path}: /training lacks {', '.join(missing)}")
    if len(c["epoch"]) == 0:
        raise reading.ResultsError(f"{res.path}: /training holds no finished epoch")
    risk = None
    if res.has("spectrum"):
        pts = [(e, res.spectrum_attrs(e).get("risk")) for e in res.spectrum_epochs()]
        pts = [(e, r) for e, r in pts if r is not None]
        if pts:
            risk = np.array(pts, dtype=float).T
    return c, risk


def draw(results, logy=None, spectrum_risk=True):
    """Two panels (loss, accuracy in %); returns the matplotlib Figure.
    logy: log loss axis (default: unless a loss is 0)."""
    import matplotlib.pyplot as plt
    from matplotlib.lines import Line2D
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

    with plotting.style():
        fig, (axl, axa) = plt.subplots(1, 2, figsize=(2 * plotting.PANEL_SIZE[0], plotting.PANEL_SIZE[1]),
                                       constrained_layout=True)
        several = len(results) > 1
        lowest, has_risk, last = np.inf, False, 1
        for res, color in zip(results, plotting.run_colors(len(results))):
            c, risk = read(res)
            tc, vc = (color, color) if several else ("C0", "C1")
            axl.plot(c["epoch"], c["train_loss"], color=tc, ls="-", label=f"{res.label} training")
            axl.plot(c["epoch"], c["val_loss"], color=vc, ls="--", label=f"{res.label} validation")
            axa.plot(c["epoch"], 100 * c["train_acc"], color=tc, ls="-", label=f"{res.label} training")
            axa.plot(c["epoch"], 100 * c["val_acc"], color=vc, ls="--", label=f"{res.label} validation")
            lowest = min(lowest, c["train_loss"].min(), c["val_loss"].min())
            last = max(last, c["epoch"].max())
            if spectrum_risk and risk is not None:
                has_risk = True
                axl.plot(risk[0], risk[1], ls="none", marker="o", ms=4, mfc="none",
                         color=color if several else "k", label=f"{res.label} risk on Hessian samples")
                lowest = min(lowest, risk[1].min())
        hinge = all(r.attrs.get("net_loss") == "hinge" for r in results)
        axl.set_ylabel("mean loss" + (" (hinge)" if hinge else ""))
        if logy or (logy is None and lowest > 0):
            axl.set_yscale("log")
            axl.yaxis.set_major_locator(LogLocator(subs=(1, 2, 5)))
            axl.yaxis.set_minor_locator(LogLocator(subs=(3, 4, 6, 7, 8, 9)))
            axl.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
            axl.yaxis.set_minor_formatter(NullFormatter())
        axa.set_ylabel("accuracy (%)")
        for ax in (axl, axa):
            ax.set_xlabel("epoch")
            ax.set_xlim(left=-0.02 * last)
            ax.xaxis.get_major_locator().set_params(integer=True)
        # legend: line styles (and the runs' colours when there are several)
        k = "k" if several else None
        handles = [Line2D([], [], color=k or "C0", ls="-", label="training"),
                   Line2D([], [], color=k or "C1", ls="--", label="validation")]
        if has_risk:
            handles.append(Line2D([], [], color="k", ls="none", marker="o", ms=4, mfc="none",
                                  label="risk on the Hessian's samples"))
        axl.legend(handles=handles, frameon=False)
        if several:
            runs = [Line2D([], [], color=c, label=r.label) for r, c in zip(results, plotting.run_colors(len(results)))]
            axa.legend(handles=runs, frameon=False, title="run")
        else:
            axa.legend(handles=handles[:2], frameon=False)
        axl.set_title("loss")
        axa.set_title("accuracy")
    return fig


def main(argv=None):
    p = cli.make_parser("fig1c_curves.py", __doc__.split("\n\n")[0], READS)
    cli.add_common_arguments(p)
    g = p.add_mutually_exclusive_group()
    g.add_argument("--logy", action="store_true", default=None,
                   help="logarithmic loss axis (the default unless a loss is 0)")
    g.add_argument("--linear", dest="logy", action="store_false", help="linear loss axis")
    p.add_argument("--no-spectrum-risk", action="store_true", help="do not mark the risk on the Hessian's samples")

    return cli.figure_main("fig1c_curves.py", p, STEM, lambda results, a: draw(results, a.logy, not a.no_spectrum_risk), argv)


if __name__ == "__main__":
    main(sys.argv[1:])
