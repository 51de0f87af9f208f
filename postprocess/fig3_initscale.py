#!/usr/bin/python3
"""Fig. 3: the initialisation-scaling study and the step-size runs (Sec. 5.2).
(a) Hessian spectral densities at initialisation, one curve per variance factor
c of N(0, c/fan_in), symmetric-log eigenvalue axis and log density axis;
(b) E||grad R||^2 and its standard deviation over the initialisations against
c on log-log axes, with the fitted slope and the reference slopes L-1 and L
(L weight layers); (c) the mini-batch loss per step and (d) the step size
(solid) and gradient norm (dashed) per step of one or several training runs,
each labelled by its step rule (dynamic eta_0/||g||^2, constant, with BN,
diverged at step k).

Panels (a) and (b) come from the files with /initscale (runs with identical
studies are drawn once; (a) from the first file with spectra, or
--spectra-from), (c) and (d) from the files with /training/steps; a figure
needs at least one of the two.

    fig3_initscale.py runs/dynamic runs/constant runs/bn --labels dynamic,constant,"with BN" --out figures
"""
import sys

import numpy as np

if __package__:  # imported as nncas_post.fig3_initscale (pyproject.toml, the installed tree)
    from . import cli
    from . import plotting
    from . import reading
    from . import fig1b_spectra
else:  # run as python3 postprocess/fig3_initscale.py, or postprocess/ on sys.path
    import cli
    import plotting
    import reading
    import fig1b_spectra

READS = ("/initscale (c, grad_norm_sq, grad_norm_sq_mean, grad_norm_sq_std; attributes grad_norm_sq_exponent, "
         "weight_layers, inits), /initscale/c_II/density (as /spectrum/epoch_EEEE/density; attribute c), "
         "/training/steps (step, loss, step_size, grad_norm) and the /training attributes step_rule, diverged")
STEM = "fig3_initscale"
NEEDS = ()  # any of NEEDS_ANY in some file
NEEDS_ANY = ("initscale", "training/steps")


def missing(results):
    """Why the figure cannot be drawn from these files (None if it can)."""
    if any(r.has(g) for r in results for g in NEEDS_ANY):
        return None
    return "; ".join(f"{r.path} has neither /initscale nor /training/steps" for r in results)


def describe_run(res, st):
    """'dynamic η = 0.01/‖g‖², c = 4', 'with BN, constant η = 0.1, c = 4', and
    (suffix) ', diverged at step 6' (1-based, as nncas reports it)."""
    a = st["attrs"]
    taken = st["step_size"] > 0
    rule = str(a.get("step_rule", "?"))
    if rule == "dynamic" and taken.any():
        eta0 = np.median(st["step_size"][taken] * st["grad_norm"][taken] ** 2)
        desc = f"dynamic η = {eta0:.3g}/‖g‖²"
    elif taken.any():
        desc = f"{rule} η = {st['step_size'][taken][0]:.3g}"
    else:
        desc = rule
    if reading.has_batch_norm(res):
        desc = "with BN, " + desc
    c = res.option("net_init_c")
    if c and str(res.attrs.get("net_init")) == "scaled":
        desc += f", c = {c}"
    suffix = ""
    if int(a.get("diverged", 0)) and len(st["step"]):
        suffix = f", diverged at step {int(st['step'][-1]) + 1}"
    return desc, suffix


def run_label(res, st):
    desc, suffix = describe_run(res, st)
    return (res.label if res.label_given else f"{res.label}: {desc}") + suffix


def initscale_groups(results):
    """[(labels, Results, initscale dict)]: files with /initscale, identical studies merged."""
    groups = []
    for r in results:
        if not r.has("initscale"):
            continue
        d = r.initscale()
        for g in groups:
            o = g[2]
            if o["c"].shape == d["c"].shape and np.array_equal(o["c"], d["c"]) and \
                    o["grad_norm_sq"].shape == d["grad_norm_sq"].shape and np.array_equal(o["grad_norm_sq"], d["grad_norm_sq"]):
                g[0].append(r.label)
                break
        else:
            groups.append(([r.label], r, d))
    return groups


def loglog_fit(c, y):
    """(slope, intercept) of log y = slope log c + intercept."""
    k, b = np.polyfit(np.log(c), np.log(y), 1)
    return k, b


def _draw_spectra(ax, res, floor=1e-6):
    import matplotlib.pyplot as plt

    spectra = res.initscale_spectra()
    dens = [(c, res.initscale_density(i)) for i, c in spectra]
    study = res.initscale()
    norms = [max(abs(study["lambda_min"][i]), abs(study["lambda_max"][i])) if "lambda_max" in study else
             max(-d.lo, d.hi) for (i, _), (_, d) in zip(spectra, dens)]
    xmax = max(max(abs(d.lo), abs(d.hi)) for _, d in dens)
    lt = min(max(min(d.sigma for _, d in dens), 1e-9 * xmax), xmax)
    x = fig1b_spectra.symlog_grid(xmax, lt)
    curves = []
    for c, d in dens:
        xs = x[(x >= d.lo) & (x <= d.hi)]
        curves.append((c, xs, d.evaluate(xs)[0], d))
    peak = max(np.max(y) for _, _, y, _ in curves)
    lowest = floor * peak
    cm = plt.get_cmap("plasma")
    for k, ((c, xs, y, d), h) in enumerate(zip(curves, norms)):
        color = cm(0.1 + 0.75 * k / max(len(curves) - 1, 1))
        ax.plot(xs, np.maximum(y, lowest), color=color, lw=1.1, label=f"c = {c:g}  (‖H‖₂ = {h:.3g})")
    ax.set_xscale("symlog", linthresh=lt, linscale=0.6)
    ax.set_yscale("log")
    ax.set_xlim(-xmax, xmax)
    ax.set_ylim(lowest * 0.7, peak * 3)
    t = fig1b_spectra.symlog_ticks(xmax, lt)
    pos = t[t > 0][::-1]  # the decades, largest first: thinned to at most 3 a side
    pos = pos[:: int(np.ceil(len(pos) / 3))] if len(pos) > 3 else pos
    ax.set_xticks(np.concatenate([-pos, [0.0], pos[::-1]]))
    ax.axvspan(-lt, lt, color="0.93", zorder=0, lw=0)
    ax.set_xlabel(r"Hessian eigenvalue $\lambda$ at initialisation")
    ax.set_ylabel(r"spectral density $\rho(\lambda)$")
    ax.set_title(f"(a) spectra at initialisation ({res.label})")
    ax.legend(frameon=False, fontsize=7, loc="upper left", title=r"$N(0, c/\mathrm{fan_{in}})$", title_fontsize=7)
    ax.text(0.99, 0.98, f"linear for |λ| < {lt:.1e}", transform=ax.transAxes, ha="right", va="top",
            fontsize=7, color="0.4")


def _draw_gradients(ax, groups):
    from matplotlib.ticker import FuncFormatter, NullFormatter

    L = None
    anchor = None
    for (labels, res, d), color in zip(groups, plotting.run_colors(len(groups))):
        c = d["c"]
        mean = d.get("grad_norm_sq_mean", d["grad_norm_sq"].mean(axis=1))
        std = d.get("grad_norm_sq_std", d["grad_norm_sq"].std(axis=1, ddof=1))
        name = " = ".join(labels)
        k, b = loglog_fit(c, mean)
        ax.plot(c, mean, color=color, marker="o", ms=4, label=f"{name}: mean, fitted slope {k:.2f}")
        ax.plot(c, std, color=color, ls="--", marker="s", ms=3, mfc="none", label=f"{name}: standard deviation")
        cc = np.geomspace(c.min(), c.max(), 50)
        ax.plot(cc, np.exp(b) * cc**k, color=color, lw=0.8, alpha=0.6, label="_fit")
        if L is None:
            L = d.get("weight_layers")
            anchor = (np.exp(np.log(c).mean()), np.exp(np.log(mean).mean()))
    if L is not None:
        cc = np.geomspace(min(g[2]["c"].min() for g in groups), max(g[2]["c"].max() for g in groups), 50)
        for slope, ls in ((int(L) - 1, (0, (4, 2))), (int(L), (0, (1, 1.5)))):
            ax.plot(cc, anchor[1] * (cc / anchor[0]) ** slope, color="0.45", ls=ls, lw=1.0,
                    label=f"slope {'L−1' if slope < L else 'L'} = {slope}")
    ax.set_xscale("log")
    ax.set_yscale("log")
    cs = np.unique(np.concatenate([g[2]["c"] for g in groups]))
    ax.set_xticks(cs)
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    ax.xaxis.set_minor_formatter(NullFormatter())
    ax.set_xlabel("variance factor c")
    ax.set_ylabel(r"$\|\nabla_\theta R\|^2$ at initialisation")
    n = groups[0][2].get("inits")
    ax.set_title("(b) squared gradient norm against c" + (f" ({int(n)} inits)" if n else ""))
    ax.legend(frameon=False, fontsize=7, loc="upper left")


def bn_gradient_ratio(runs, nsteps=200, block=20, nboot=2000, seed=0):
    """Sec. 5.2's BN claim ("the gradient norm is scaled down from ~10^4 to
    ~10^2, and it enables NNs to be trained in ~100 times larger step sizes"),
    for each pair of runs with the same step rule and c, one with BN and one
    without: the medians of ||g||^2 over their first nsteps recorded steps and
    their ratio (without BN over with BN; under the dynamic step the ratio of
    the step sizes), with a 95% percentile interval from a moving-block
    bootstrap (blocks of `block` steps, the steps being correlated).
    [(label_without, label_with, median_without, median_with, ratio, lo, hi)]."""
    def key(res, st):
        return str(st["attrs"].get("step_rule", "?")), res.option("net_init_c")

    def g2(st):
        g = st["grad_norm"][:nsteps] ** 2
        return g[np.isfinite(g) & (g > 0)]

    def boot_median(x, rng):
        nb = max(1, int(np.ceil(len(x) / block)))
        starts = rng.integers(0, max(1, len(x) - block + 1), size=(nboot, nb))
        idx = (starts[:, :, None] + np.arange(block)[None, None, :]).reshape(nboot, -1)[:, : len(x)]
        return np.median(x[np.minimum(idx, len(x) - 1)], axis=1)

    bn = [(r, st) for r, st in runs if reading.has_batch_norm(r)]
    plain = [(r, st) for r, st in runs if (r, st) not in bn]
    out, rng = [], np.random.default_rng(seed)
    for r0, s0 in plain:
        for r1, s1 in bn:
            x0, x1 = g2(s0), g2(s1)
            if key(r0, s0) != key(r1, s1) or len(x0) < block or len(x1) < block:
                continue
            ratio = np.median(x0) / np.median(x1)
            b = boot_median(x0, rng) / boot_median(x1, rng)
            lo, hi = np.percentile(b, [2.5, 97.5])
            out.append((r0.label, r1.label, float(np.median(x0)), float(np.median(x1)), float(ratio), float(lo), float(hi)))
    return out


def _draw_steps(axc, axd, runs):
    from matplotlib.lines import Line2D

    order = np.argsort(np.argsort([-len(st["step"]) for _, st in runs]))  # shorter runs drawn on top
    for (res, st), color, z in zip(runs, plotting.run_colors(len(runs)), order):
        lab = run_label(res, st)
        z = 2 + 0.1 * z
        x = st["step"] + 1  # 1-based steps, as nncas reports them
        loss = st["loss"]
        fin = np.isfinite(loss) & (loss > 0)
        axc.plot(x[fin], loss[fin], color=color, lw=1.1, label=lab, zorder=z)
        eta, gn = st["step_size"], st["grad_norm"]
        taken = eta > 0
        axd.plot(x[taken], eta[taken], color=color, lw=1.1, label=lab, zorder=z)
        g = np.isfinite(gn) & (gn > 0)
        axd.plot(x[g], gn[g], color=color, lw=1.0, ls="--", label="_gradnorm", zorder=z)
        if int(st["attrs"].get("diverged", 0)) and len(x):
            if fin[-1]:
                axc.plot(x[-1:], loss[-1:], color=color, marker="x", ms=7, mew=1.5, ls="none", label="_diverged")
            if g[-1]:
                axd.plot(x[-1:], gn[-1:], color=color, marker="x", ms=7, mew=1.5, ls="none", label="_diverged")
    axc.set_yscale("log")
    axd.set_yscale("log")
    for ax in (axc, axd):
        ax.set_xlabel("step")
        ax.set_xlim(left=0)
    axc.set_ylabel("mini-batch loss")
    axd.set_ylabel(r"step size $\eta$ (solid), $\|g\|$ (dashed)")
    axc.set_title("(c) loss per step")
    axd.set_title("(d) step size and gradient norm per step")
    axc.legend(frameon=False, fontsize=7, loc="best")
    h = [Line2D([], [], color="0.3", lw=1.1, label="step size η"),
          Line2D([], [], color="0.3", lw=1.0, ls="--", label="gradient norm ‖g‖")]
    if any(int(st["attrs"].get("diverged", 0)) for _, st in runs):
        h.append(Line2D([], [], color="0.3", marker="x", ls="none", label="diverged (step not taken)"))
    axd.legend(handles=h, frameon=False, fontsize=7, loc="best")
    for k, (l0, l1, m0, m1, ratio, lo, hi) in enumerate(bn_gradient_ratio(runs)):
        axd.text(0.99, 0.02 + 0.07 * k, f"median ‖g‖² over the first 200 steps: {m0:.3g} without BN, {m1:.3g} with BN; "
                 f"ratio {ratio:.3g} [95%: {lo:.3g}, {hi:.3g}]", transform=axd.transAxes, ha="right", va="bottom",
                 fontsize=6, color="0.3")


def draw(results, spectra_from=None):
    """The panels the files have data for, in the order (a), (b), (c), (d);
    returns the matplotlib Figure. spectra_from: label of the file whose
    spectra panel (a) shows (default: the first with spectra at init)."""
    import matplotlib.pyplot as plt

    why = missing(results)
    if why:
        raise reading.ResultsError(why + f" ({reading.INITSCALE_HINT}, or {reading.STEPS_HINT})")
    groups = initscale_groups(results)
    spec = [r for r in results if r.has("initscale") and r.initscale_spectra()]
    if spectra_from is not None:
        spec = [r for r in spec if r.label == spectra_from]
        if not spec:
            raise reading.ResultsError(f"--spectra-from {spectra_from}: no file of that label has spectra at "
                                      "initialisation (/initscale/c_II)")
    runs = [(r, r.steps()) for r in results if r.has("training/steps")]
    panels = (["a"] if spec else []) + (["b"] if groups else []) + (["c", "d"] if runs else [])
    ncol = 2 if len(panels) > 1 else 1
    nrow = (len(panels) + 1) // 2
    with plotting.style():
        fig, axes = plt.subplots(nrow, ncol, figsize=((plotting.PANEL_SIZE[0] + 0.6) * ncol, (plotting.PANEL_SIZE[1] + 0.3) * nrow),
                                 squeeze=False, constrained_layout=True)
        ax = dict(zip(panels, axes.ravel()))
        for extra in axes.ravel()[len(panels):]:
            extra.remove()
        if "a" in ax:
            _draw_spectra(ax["a"], spec[0])
        if "b" in ax:
            _draw_gradients(ax["b"], groups)
        if "c" in ax:
            _draw_steps(ax["c"], ax["d"], runs)
    return fig


def main(argv=None):
    p = cli.make_parser("fig3_initscale.py", __doc__.split("\n\n")[0], READS)
    cli.add_common_arguments(p)
    p.add_argument("--spectra-from", metavar="LABEL", help="the run whose spectra at initialisation panel (a) shows "
                   "(default: the first with them)")

    return cli.figure_main("fig3_initscale.py", p, STEM, lambda results, a: draw(results, a.spectra_from), argv)


if __name__ == "__main__":
    main(sys.argv[1:])
