#!/usr/bin/python3
"""Fig. 1b: the Hessian's spectral density at several epochs of training, one
curve per epoch, eigenvalue on a symmetric-log axis and density on a log axis;
one panel per results file (e.g. LeNet and VGG side by side).

    fig1b_spectra.py runs/lenet/results.h5 runs/vgg/results.h5 --labels LeNet,VGG --out figures
"""
import sys

import numpy as np

if __package__:  # imported as nncas_post.fig1b_spectra (pyproject.toml, the installed tree)
    from . import cli
    from . import plotting
    from . import reading
else:  # run as python3 postprocess/fig1b_spectra.py, or postprocess/ on sys.path
    import cli
    import plotting
    import reading

READS = ("/spectrum/epoch_EEEE/density (grid, density, ritz_values, ritz_weights, steps; "
         "attributes lo, hi, M, sigma_normalized), and the attribute hessian_samples of /spectrum/epoch_EEEE")
STEM = "fig1b_spectra"
NEEDS = ("spectrum",)  # groups every file must have


def symlog_grid(xmax, linthresh, n_lin=201, n_per_decade=120):
    """Points on [-xmax, xmax] evenly spaced on a symlog axis."""
    inner = np.linspace(-linthresh, linthresh, n_lin)
    if xmax <= linthresh:
        return np.linspace(-xmax, xmax, n_lin)
    outer = np.geomspace(linthresh, xmax, max(int(n_per_decade * np.log10(xmax / linthresh)), 2))[1:]
    return np.concatenate([-outer[::-1], inner, outer])


def symlog_ticks(xmax, linthresh):
    """0 and the powers of ten beyond the linear range, both signs."""
    k = np.arange(np.ceil(np.log10(1.5 * linthresh)), np.floor(np.log10(xmax)) + 1)
    t = 10.0 ** k
    return np.concatenate([-t[::-1], [0.0], t])


def panel_data(res, epochs=None, width=None, sigma=None):
    """[(epoch, Density)] of the epochs to draw (all recorded ones by default)."""
    have = res.spectrum_epochs()
    if not have:
        raise reading.ResultsError(f"{res.path}: /spectrum holds no epoch_EEEE group")
    if epochs is not None:
        missing = [e for e in epochs if e not in have]
        if missing:
            raise reading.ResultsError(f"{res.path} has no spectrum at epoch(s) {missing} (it has {have})")
        have = [e for e in have if e in epochs]
    out = []
    for e in have:
        if "density" not in res.spectrum_group(e):
            raise reading.ResultsError(f"{res.path}: /spectrum/epoch_{e:04d} has no density group "
                                      "(the run had the density off)")
        out.append((e, res.density(e, width=width, sigma=sigma)))
    return out


def draw(results, epochs=None, width=None, linthresh=None, floor=1e-6, stored=False, sigma=None):
    """The figure: one panel per Results; returns the matplotlib Figure.

    linthresh: the symlog axis' linear range (default: the smallest kernel
    width sigma of the panel, in eigenvalue units, below which the density has
    no detail); floor: densities below floor x the panel's peak are drawn at
    that level (log axis); stored: draw the stored K-point curves instead of
    evaluating the same smoothed density on a symlog-spaced grid; width,
    sigma: re-smooth (reading.Results.density)."""
    import matplotlib.pyplot as plt

    with plotting.style():
        fig, axes = plt.subplots(1, len(results), figsize=(plotting.PANEL_SIZE[0] * len(results), plotting.PANEL_SIZE[1]),
                                 squeeze=False, constrained_layout=True)
        for ax, res in zip(axes[0], results):
            data = panel_data(res, epochs, width, sigma)
            xmax = max(max(abs(d.lo), abs(d.hi)) for _, d in data)
            lt = linthresh or min(d.sigma for _, d in data)
            lt = min(max(lt, 1e-6 * xmax), xmax)
            x = symlog_grid(xmax, lt)
            curves = []
            for e, d in data:
                if stored:
                    curves.append((e, d.grid, d.density))
                else:
                    xs = x[(x >= d.lo) & (x <= d.hi)]
                    curves.append((e, xs, d.evaluate(xs)[0]))
            peak = max(np.max(y) for _, _, y in curves)
            lowest = floor * peak
            for (e, xs, y), color in zip(curves, plotting.epoch_colors(len(curves))):
                ax.plot(xs, np.maximum(y, lowest), color=color, label=str(e), lw=1.1)
            ax.set_xscale("symlog", linthresh=lt, linscale=0.6)
            ax.set_yscale("log")
            ax.set_xlim(-xmax, xmax)
            ax.set_ylim(lowest * 0.7, peak * 3)
            ax.set_xticks(symlog_ticks(xmax, lt))
            ax.axvspan(-lt, lt, color="0.93", zorder=0, lw=0)
            ax.set_xlabel(r"Hessian eigenvalue $\lambda$ (loss units)")
            ax.set_ylabel(r"spectral density $\rho(\lambda)$ (1 / loss unit)")
            n = res.attrs.get("net_parameters")
            m = res.spectrum_attrs(data[0][0]).get("hessian_samples")
            sub = ", ".join(s for s in (f"N = {n:,}" if n else "", f"{m} samples" if m else "") if s)
            ax.set_title(f"{res.label}" + (f" ({sub})" if sub else ""))
            ax.legend(title="epoch", frameon=False, loc="upper left")
            sig = sorted({float(f"{d.sigma:.1e}") for _, d in data})
            sig = f"{sig[0]:.1e}" + (f" to {sig[-1]:.1e}" if len(sig) > 1 else "")
            ax.text(0.99, 0.98, f"linear for |λ| < {lt:.1e}\nkernel σ = {sig}",
                    transform=ax.transAxes, ha="right", va="top", fontsize=7, color="0.4")
    return fig


def main(argv=None):
    p = cli.make_parser("fig1b_spectra.py", __doc__.split("\n\n")[0], READS)
    cli.add_common_arguments(p)
    p.add_argument("--epochs", metavar="E,E,...", help="epochs to draw (default: every epoch with a spectrum)")
    p.add_argument("--width", type=float, metavar="W",
                   help="re-smooth the Ritz measure with Papyan's kernel parameter W (nncas: 3; larger is narrower)")
    p.add_argument("--sigma", type=float, metavar="S",
                   help="re-smooth every epoch with one Gaussian width S in eigenvalue units (nncas's width is "
                        "relative to each epoch's spectral range, so peak heights differ with the range)")
    p.add_argument("--linthresh", type=float, metavar="L",
                   help="linear range of the eigenvalue axis (default: the smallest kernel width sigma)")
    p.add_argument("--floor", type=float, default=1e-6, metavar="F",
                   help="lowest density drawn, relative to the panel's peak (default 1e-6)")
    p.add_argument("--stored", action="store_true", help="draw the stored K-point curves as they are")

    def draw_args(results, a):
        epochs = [int(e) for e in a.epochs.split(",")] if a.epochs else None
        return draw(results, epochs, a.width, a.linthresh, a.floor, a.stored, a.sigma)

    return cli.figure_main("fig1b_spectra.py", p, STEM, draw_args, argv)


if __name__ == "__main__":
    main(sys.argv[1:])
