"""The postprocess scripts of the coupling statistics (Fig. 1d/e, 1f/6, 5,
Table 2) and of the init-scaling study (Fig. 3) on small real results files
written by nncas in the test (2 ranks, a few seconds each): the figures'
content against the files (axes, scales, images equal to the stored
submatrices, one line per statistic or run with the stored numbers, bands,
legends, no NaN), Table 2's and the summary's numbers against the files, and
one clear error when a group is missing."""
import csv
import io
import os
import re
import subprocess
import sys

import h5py
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.collections import PolyCollection  # noqa: E402
from matplotlib.patches import StepPatch  # noqa: E402

import cli  # noqa: E402
import h5flat  # noqa: E402
import reading  # noqa: E402
import fig1de_cc_heatmaps  # noqa: E402
import fig1f_coupling  # noqa: E402
import fig3_initscale  # noqa: E402
import fig5_null  # noqa: E402
import quickstart_figures  # noqa: E402
import summary  # noqa: E402
import table2  # noqa: E402

BUILD = os.environ.get("NNCAS_BUILD", "build")
POSTPROCESS = os.path.join(os.path.dirname(__file__), "..", "..", "postprocess")
STATS = ("cc", "skewness", "kurtosis")
COUPLING_EPOCHS = [0, 1, 2]
DEEP = ",".join(["dense:32,relu"] * 6 + ["dense:1"])
DEEP_BN = ",".join(["dense:32,bn,relu"] * 6 + ["dense:1"])
INIT_C = [0.5, 1.0, 2.0, 4.0]


def nncas(out, *args, status=0):
    cmd = ["mpiexec", "-q", "-n", "2", "--oversubscribe", os.path.join(BUILD, "nncas"), *map(str, args),
           "-output_dir", str(out)]
    p = subprocess.run(cmd, capture_output=True, text=True)
    assert p.returncode == status, p.stdout[-2000:] + p.stderr[-2000:]
    return out / "results.h5"


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """{name: results.h5}: coupling statistics at epochs 0, 1, 2 (with BN, so that
    Hessian entries within a layer vary), and three step-rule runs with the
    init-scaling study: dynamic, constant (diverges: exit status 4), with BN."""
    d = tmp_path_factory.mktemp("extra")
    out = {}
    out["coupling"] = nncas(d / "coupling", "-data_format", "mixture", "-synth_shape", "1,1,16", "-synth_train", 320,
                            "-synth_val", 64, "-net_layers", "dense:8,bn,relu,dense:8,relu,dense:1", "-train_epochs", 2,
                            "-train_batch", 32, "-coupling_every", 1, "-coupling_nb", 12, "-coupling_nb_high", 6,
                            "-coupling_draws", 2, "-coupling_null_draws", 3)
    init = ["-data_format", "mixture", "-synth_shape", "1,1,32", "-synth_train", 256, "-synth_val", 64, "-net_bias",
            "false", "-net_init", "scaled", "-net_init_c", 4, "-initscale", "-initscale_c", ",".join(map(str, INIT_C)),
            "-initscale_inits", 4, "-hessian_samples", 64, "-train_epochs", 2, "-train_batch", 32,
            "-train_record_steps", "-train_divergence_loss", 1000]
    out["dynamic"] = nncas(d / "dynamic", *init, "-net_layers", DEEP, "-train_step", "dynamic", "-train_lr", 0.01)
    out["constant"] = nncas(d / "constant", *init, "-net_layers", DEEP, "-train_step", "constant", "-train_lr", 0.1,
                            status=4)
    out["bn"] = nncas(d / "bn", *init, "-net_layers", DEEP_BN, "-train_step", "constant", "-train_lr", 0.1,
                      "-initscale_spectra", "false")
    return {k: str(v) for k, v in out.items()}


@pytest.fixture(scope="module")
def edited(runs, tmp_path_factory):
    """edited(run, fn): a copy of runs[run] changed by fn(h5py.File)."""
    def make(run, fn):
        p = tmp_path_factory.mktemp("edit") / "results.h5"
        h5flat.flatten(runs[run], str(p))  # self-contained: the run's own files stay as they are
        with h5py.File(p, "a") as f:
            fn(f)
        return str(p)
    return make


def without(edited, run, group):
    def drop(f):
        del f[group]
    return edited(run, drop)


def finite_lines(ax):
    lines = [ln for ln in ax.get_lines()]
    for ln in lines:
        x, y = (np.asarray(v, dtype=float) for v in ln.get_data())
        assert len(x) > 0 and np.all(np.isfinite(x)) and np.all(np.isfinite(y)), ln.get_label()
    return lines


def labelled(ax):
    """The lines of ax that have a legend label, {label: Line2D}."""
    return {ln.get_label(): ln for ln in ax.get_lines() if not ln.get_label().startswith("_")}


def legend_texts(ax):
    return [t.get_text() for t in ax.get_legend().get_texts()]


# ---------------------------------------------------------------- readers


def test_readers_return_the_files(runs):
    with reading.open_results(runs["coupling"]) as r, h5py.File(runs["coupling"], "r") as f:
        assert r.coupling_epochs() == COUPLING_EPOCHS
        for e in COUPLING_EPOCHS:
            for s in STATS:
                d = r.coupling(e, s)
                g = f[f"coupling/epoch_{e:04d}/{s}"]
                np.testing.assert_array_equal(d["counts"], g["counts"][()])
                np.testing.assert_array_equal(d["total"], g["total"][()])
                assert d["N_b"] == g.attrs["N_b"] and d["per_entry_mean"] == g.attrs["per_entry_mean"]
                assert d["group"]["draws"] == 2 and d["group"]["epoch"] == e
            sub, var = r.cc_submatrix(e)
            np.testing.assert_array_equal(sub, f[f"coupling/epoch_{e:04d}/cc/submatrix"][()])
            assert sub.shape == (len(var), len(var)) and 0 < len(var) <= 100  # sampled among the varying entries
            np.testing.assert_allclose(np.diag(sub), 1, atol=1e-12)
        for s in STATS:
            n = r.coupling_null(s)
            g = f[f"coupling/null/{s}"]
            np.testing.assert_array_equal(n["histogram"], g["histogram"][()])
            assert n["edges"][0] == g["histogram"].attrs["lo"] and n["edges"][-1] == g["histogram"].attrs["hi"]
            assert n["count_mean"] == g.attrs["count_mean"] and len(n["counts"]) == 3
    with reading.open_results(runs["dynamic"]) as r, h5py.File(runs["dynamic"], "r") as f:
        st = r.steps()
        np.testing.assert_array_equal(st["loss"], f["training/steps/loss"][()])
        assert st["attrs"]["step_rule"] == "dynamic" and st["attrs"]["diverged"] == 0
        # /training/steps is a group inside /training: the per-epoch curves skip it
        assert sorted(r.curves()) == sorted(k for k in f["training"] if k != "steps")
        d = r.initscale()
        np.testing.assert_array_equal(d["c"], INIT_C)
        assert d["grad_norm_sq"].shape == (4, 4) and d["weight_layers"] == 7
        assert [c for _, c in r.initscale_spectra()] == INIT_C
        assert f["initscale/hessian_sample_index"].shape == (64,)  # -hessian_samples reaches the study's Hessian
        dens = r.initscale_density(1)
        np.testing.assert_array_equal(dens.density, f["initscale/c_01/density/density"][()])
        assert r.option("net_init_c") == "4" and r.option("train_record_steps") == "" and r.option("nothing") is None


# ---------------------------------------------------------------- Fig. 1d/e


def test_fig1de_images_are_the_stored_submatrices(runs):
    """--varying-only: each panel is the stored submatrix among the varying entries."""
    with reading.open_results(runs["coupling"], "tiny") as r:
        fig = fig1de_cc_heatmaps.draw([r], varying_only=True)
    panels = [ax for ax in fig.axes if ax.images]
    assert len(panels) == 2 and len(fig.axes) == 3  # first and last epoch, and the colour bar
    with h5py.File(runs["coupling"], "r") as f:
        for ax, e in zip(panels, [0, 2]):
            sub = f[f"coupling/epoch_{e:04d}/cc/submatrix"][()]
            (im,) = ax.images
            a = im.get_array()
            np.testing.assert_array_equal(a.data, sub)
            const = np.abs(np.diag(sub)) < 0.5
            assert const.sum() == 0  # the submatrix is sampled among the entries that vary
            np.testing.assert_array_equal(np.ma.getmaskarray(a), const[:, None] | const[None, :])
            assert np.all(np.isfinite(sub)) and np.abs(sub).max() <= 1 + 1e-12
            assert im.get_clim() == (-1, 1) and im.get_cmap().name.startswith("RdBu_r")
            assert ax.get_title() == f"tiny: epoch {e}"
            assert "0 constant (grey)" in ax.get_xlabel()
    plt.close(fig)
    runs2 = cli.load_all([runs["coupling"], runs["coupling"]], "A,B")
    fig = fig1de_cc_heatmaps.draw(runs2, epochs=[0, 1, 2], varying_only=True)
    for r in runs2:
        r.close()
    panels = [ax for ax in fig.axes if ax.images]
    assert len(panels) == 6 and [ax.get_title() for ax in panels[:3]] == [f"A: epoch {e}" for e in (0, 1, 2)]
    plt.close(fig)


def test_fig1de_default_shows_constant_entries_as_zeros(runs):
    """The paper's view: a uniform sample of all N_b^2 entries, the constant ones
    at their share as zero rows and columns (ticked), the others the stored ones."""
    with reading.open_results(runs["coupling"]) as r:
        fig = fig1de_cc_heatmaps.draw([r])
    panels = [ax for ax in fig.axes if ax.images]
    with h5py.File(runs["coupling"], "r") as f:
        for ax, e in zip(panels, [0, 2]):
            g = f[f"coupling/epoch_{e:04d}/cc"]
            sub, nb = g["submatrix"][()], int(g.attrs["N_b"])
            f_const = g["constant_variables"][0] / nb**2
            size = min(100, nb * nb)  # -coupling_submatrix's default
            a = ax.images[0].get_array()
            assert a.shape == (size, size) and not np.ma.getmaskarray(a).any()
            const = np.abs(np.diag(a.data)) < 0.5
            kv = int(round(size * (1 - f_const)))
            assert 0 < const.sum() == size - kv  # this run has constant entries
            assert not a.data[const].any() and not a.data[:, const].any()
            keep = np.flatnonzero(~const)
            np.testing.assert_array_equal(a.data[np.ix_(keep, keep)], sub[:kv, :kv])
            ticks = [ln for ln in ax.get_lines() if ln.get_label() == "_constant_rows"]
            np.testing.assert_array_equal(ticks[0].get_ydata(), np.flatnonzero(const))
            assert f"{size} of N_b² = {nb * nb} entries; {size - kv} constant (0, ticked)" in ax.get_xlabel()
    plt.close(fig)


# ---------------------------------------------------------------- Fig. 1f / 6


def test_fig1f_lines_bands_references_and_ratios(runs):
    with reading.open_results(runs["coupling"]) as r:
        fig = fig1f_coupling.draw([r])
    assert len(fig.axes) == 2
    axa, axb = fig.axes
    assert axa.get_yscale() == "log" and axb.get_yscale() == "linear"
    assert axa.get_xlabel() == axb.get_xlabel() == "epoch"
    finite_lines(axa), finite_lines(axb)
    la, lb = labelled(axa), labelled(axb)
    assert len(la) == len(lb) == 3
    with h5py.File(runs["coupling"], "r") as f:
        for s in STATS:
            g = [f[f"coupling/epoch_{e:04d}/{s}"] for e in COUPLING_EPOCHS]
            name = next(k for k in la if k.startswith(reading.STAT_NAMES[s]))
            assert f"N_b = {g[0].attrs['N_b']}" in name and f"> {g[0].attrs['threshold']:g}" in name
            m = np.array([x.attrs["per_entry_mean"] for x in g])
            ex = np.array([x.attrs["exponent_mean"] for x in g])
            assert np.all(m > 0)  # this run has counts at every epoch
            np.testing.assert_array_equal(la[name].get_xdata(), COUPLING_EPOCHS)
            np.testing.assert_allclose(la[name].get_ydata(), m, rtol=1e-12)
            np.testing.assert_allclose(lb[name].get_ydata(), ex, rtol=1e-12)
            # the exponent is that of the mean count per entry
            np.testing.assert_allclose(ex, np.log(m) / np.log(g[0].attrs["N_b"]), rtol=1e-12)
            assert la[name].get_color() == fig1f_coupling.COLORS[s]
        # the ratios count / total at the last epoch, at the right of (b)
        last = [f[f"coupling/epoch_{COUPLING_EPOCHS[-1]:04d}/{s}"] for s in STATS]
        ratios = sorted(f"{x['counts'][()].sum() / x['total'][()].sum():.2g}" for x in last)
        # the chance level of Algorithm 3: null fraction times the total per entry
        nl = f["coupling/null/cc"]
        frac = nl.attrs["count_mean"] / nl["histogram"][()].sum()
        tot = [f[f"coupling/epoch_{e:04d}/cc/total"][()].mean() / 144 for e in COUPLING_EPOCHS]
    assert sorted(t.get_text() for t in axb.texts if not t.get_text().startswith("paper")) == ratios
    chance = [ln for ln in axa.get_lines() if ln.get_label() == "_chance" and ln.get_color() == "C3"]
    np.testing.assert_allclose(chance[0].get_ydata(), frac * np.array(tot), rtol=1e-12)
    # s.e. bands: one per statistic in (a) and (b)
    assert sum(isinstance(c, PolyCollection) for c in axa.collections) == 3
    assert sum(isinstance(c, PolyCollection) for c in axb.collections) == 3
    # the paper's exponents 3/2, 3, 9/2
    refs = sorted(ln.get_ydata()[0] for ln in axb.get_lines() if ln.get_label() == "_paper")
    assert refs == [1.5, 3.0, 4.5]
    assert sorted(t.get_text() for t in axb.texts if t.get_text().startswith("paper")) == \
        ["paper (VGG, BN): 3", "paper (VGG, BN): 3/2", "paper (VGG, BN): 9/2"]
    assert "chance level (Alg. 3 null)" in legend_texts(axa)
    assert "band: ± 1 SD over the B = 2 draws" in legend_texts(axa)
    plt.close(fig)


@pytest.mark.parametrize("band", ["sd", "se"])
def test_fig1f_bands_are_the_named_spread(runs, band):
    """The band of (a) is the mean ± one SD (the paper's Fig. 6a) or SE of the count per entry over the draws."""
    with reading.open_results(runs["coupling"]) as r:
        fig = fig1f_coupling.draw([r], stats=["cc"], band=band)
    axa = fig.axes[0]
    (poly,) = [c for c in axa.collections if isinstance(c, PolyCollection)]
    ys = poly.get_paths()[0].vertices[:, 1]
    with h5py.File(runs["coupling"], "r") as f:
        for e in COUPLING_EPOCHS:
            g = f[f"coupling/epoch_{e:04d}/cc"]
            b = len(g["per_entry"][()])
            spread = g.attrs["per_entry_standard_error"] * (np.sqrt(b) if band == "sd" else 1)
            assert np.isclose(ys, g.attrs["per_entry_mean"] + spread, rtol=1e-12, atol=0).any(), e
    assert f"band: ± 1 {band.upper()} over the B = 2 draws" in legend_texts(axa)
    plt.close(fig)


def test_fig1f_paper_exponents_only_for_a_network_with_bn(edited):
    """The paper's 3/2, 3, 9/2 are its VGG with BN's: not drawn for a net without BN."""
    def no_bn(f):
        f.attrs["net_spec"] = "dense:8,relu,dense:8,relu,dense:1"
    path = edited("coupling", no_bn)
    with reading.open_results(path) as r:
        fig = fig1f_coupling.draw([r])
    axb = fig.axes[1]
    assert not [ln for ln in axb.get_lines() if ln.get_label() == "_paper"]
    assert not [t for t in axb.texts if t.get_text().startswith("paper")]
    plt.close(fig)


def test_fig1f_zero_count_is_marked_not_nan(edited, tmp_path):
    """A statistic without a count above its threshold at an epoch: nncas's exponent
    is NaN; the lines leave the epoch out and a triangle marks it."""
    def zero(f):
        g = f["coupling/epoch_0001/kurtosis"]
        for k in ("counts", "per_entry"):
            g[k][...] = 0
        g["exponent"][...] = np.nan
        g.attrs["per_entry_mean"] = 0.0
        g.attrs["exponent_mean"] = np.nan
        g.attrs["exponent_standard_error"] = np.nan
    path = edited("coupling", zero)
    with reading.open_results(path) as r:
        fig = fig1f_coupling.draw([r])
    axa, axb = fig.axes
    finite_lines(axa), finite_lines(axb)
    name = next(k for k in labelled(axa) if k.startswith("excess kurtosis"))
    np.testing.assert_array_equal(labelled(axa)[name].get_xdata(), [0, 2])
    np.testing.assert_array_equal(labelled(axb)[name].get_xdata(), [0, 2])
    marks = [ln for ln in axa.get_lines() if ln.get_label() == "_zero"]
    assert len(marks) == 1 and list(marks[0].get_xdata()) == [1] and marks[0].get_marker() == "v"
    assert "count 0 at this epoch" in legend_texts(axa)
    plt.close(fig)
    assert fig1f_coupling.main([path, "--stats", "cc", "--out", str(tmp_path)])[0].endswith("fig1f_coupling.png")


# ---------------------------------------------------------------- Fig. 5 and Table 2


def test_fig5_histograms_thresholds_and_null_counts(runs):
    with reading.open_results(runs["coupling"]) as r:
        fig = fig5_null.draw([r])
    assert len(fig.axes) == 3
    with h5py.File(runs["coupling"], "r") as f:
        for ax, s in zip(fig.axes, STATS):
            g = f[f"coupling/null/{s}"]
            (patch,) = [p for p in ax.patches if isinstance(p, StepPatch)]
            values, edges, _ = patch.get_data()
            np.testing.assert_array_equal(values, g["histogram"][()])
            assert edges[0] == g["histogram"].attrs["lo"] and edges[-1] == g["histogram"].attrs["hi"]
            assert len(edges) == len(values) + 1
            thr = g.attrs["threshold"]
            vlines = sorted(ln.get_xdata()[0] for ln in ax.get_lines())
            assert vlines == [-thr, thr]
            assert ax.get_yscale() == "log" and reading.STAT_NAMES[s] in ax.get_title()
            texts = legend_texts(ax)
            assert texts[0] == f"null statistics (N_b = {g.attrs['N_b']}, n = {g.attrs['n']})"
            assert texts[1] == (f"threshold ±{thr:g}: null count {g.attrs['count_mean']:.2f} ± "
                                f"{g.attrs['count_standard_error']:.2f} SE (B = 3)")
            assert f"target / 100 = {g.attrs['target'] / 100:.3g}" in ax.get_title()
    plt.close(fig)


def test_table2_numbers_are_the_files(runs, tmp_path, capsys):
    tables, paths = table2.main([runs["coupling"], "--labels", "tiny", "--out", str(tmp_path)])
    text = capsys.readouterr().out
    assert [os.path.basename(p) for p in paths] == ["table2.txt", "table2.csv"]
    assert open(paths[0]).read() == text
    rows = {ln.split("  ")[1].strip(): ln for ln in text.splitlines() if ln.startswith("  ") and not ln.startswith("   ")}
    with h5py.File(runs["coupling"], "r") as f:
        g = [f[f"coupling/null/{s}"] for s in STATS]
        s0 = re.findall(r"([\d.]+) ± ([\d.]+) SE \(SD ([\d.]+)\)", rows["Non-zero Count s_0"])
        assert [(float(m), float(se), float(sd)) for m, se, sd in s0] == [
            (round(x.attrs["count_mean"], 2), round(x.attrs["count_standard_error"], 2),
             round(x.attrs["count_standard_error"] * np.sqrt(3), 2)) for x in g]
        assert rows["Threshold"].split()[1:] == [f"{x.attrs['threshold']:g}" for x in g]
        assert rows["N_b"].split()[1:] == [str(x.attrs["N_b"]) for x in g]
        assert "Correlation Coefficients" in rows["Test Statistics"] and "Excess Kurtosis" in rows["Test Statistics"]
        table = list(csv.DictReader(open(paths[1])))
        assert [t["statistic"] for t in table] == list(STATS)
        for t, x in zip(table, g):
            assert float(t["count_mean"]) == x.attrs["count_mean"] and float(t["threshold"]) == x.attrs["threshold"]
            assert [float(v) for v in t["counts"].split()] == list(x["counts"][()])
            assert int(t["null_draws"]) == 3 and t["label"] == "tiny"


# ---------------------------------------------------------------- Fig. 3


def test_fig3_panels_against_the_files(runs):
    res = cli.load_all([runs["dynamic"], runs["constant"], runs["bn"]])
    fig = fig3_initscale.draw(res)
    for r in res:
        r.close()
    assert len(fig.axes) == 4
    axa, axb, axc, axd = fig.axes
    # (a) one spectrum per c, symlog / log
    assert axa.get_xscale() == "symlog" and axa.get_yscale() == "log"
    la = finite_lines(axa)
    assert [ln.get_label().split()[2] for ln in la] == [f"{c:g}" for c in INIT_C]
    with h5py.File(runs["dynamic"], "r") as f:
        g = f["initscale"]
        mean, std, L = g["grad_norm_sq_mean"][()], g["grad_norm_sq_std"][()], g.attrs["weight_layers"]
        slope = g.attrs["grad_norm_sq_exponent"]
        for ln, i in zip(la, range(4)):
            assert f"‖H‖₂ = {max(-g['lambda_min'][i], g['lambda_max'][i]):.3g}" in ln.get_label()
    # (b) log-log; dynamic and constant have the same study (drawn once), BN another
    assert axb.get_xscale() == axb.get_yscale() == "log"
    finite_lines(axb)
    lb = labelled(axb)
    key = next(k for k in lb if k.startswith("dynamic = constant: mean"))
    np.testing.assert_array_equal(lb[key].get_xdata(), INIT_C)
    np.testing.assert_array_equal(lb[key].get_ydata(), mean)
    assert f"fitted slope {slope:.2f}" in key  # nncas's least-squares exponent
    np.testing.assert_array_equal(lb["dynamic = constant: standard deviation"].get_ydata(), std)
    assert any(k.startswith("bn: mean") for k in lb)
    assert f"slope L−1 = {L - 1}" in lb and f"slope L = {L}" in lb
    ref = lb[f"slope L = {L}"]
    x, y = ref.get_data()
    assert np.log(y[-1] / y[0]) / np.log(x[-1] / x[0]) == pytest.approx(L)
    # (c), (d): one line per run, labelled by its step rule
    lc, ld = labelled(axc), labelled(axd)
    finite_lines(axc), finite_lines(axd)
    assert axc.get_yscale() == axd.get_yscale() == "log"
    with h5py.File(runs["constant"], "r") as f:
        k = int(re.search(r"global step (\d+)", f["training"].attrs["diverged_what"]).group(1))
        closs = f["training/steps/loss"][()]
    names = sorted(lc)
    assert names == sorted(["dynamic: dynamic η = 0.01/‖g‖², c = 4", f"constant: constant η = 0.1, c = 4, diverged at step {k}",
                            "bn: with BN, constant η = 0.1, c = 4"])
    np.testing.assert_array_equal(lc[names[1]].get_ydata(), closs)
    np.testing.assert_array_equal(lc[names[1]].get_xdata(), np.arange(1, len(closs) + 1))
    assert len(closs) == k and closs[-1] > 1000
    with h5py.File(runs["dynamic"], "r") as f:
        s = f["training/steps"]
        eta, gn = s["step_size"][()], s["grad_norm"][()]
    dyn = next(v for kk, v in ld.items() if kk.startswith("dynamic"))
    np.testing.assert_array_equal(dyn.get_ydata(), eta)
    np.testing.assert_allclose(eta * gn**2, 0.01, rtol=1e-12)
    assert [t for t in legend_texts(axd)] == ["step size η", "gradient norm ‖g‖", "diverged (step not taken)"]
    plt.close(fig)


def test_fig3_draws_the_panels_it_has_data_for(runs, edited, tmp_path):
    steps_only = without(edited, "dynamic", "initscale")
    with reading.open_results(steps_only, "mine") as r:
        fig = fig3_initscale.draw([r])
    assert len(fig.axes) == 2 and [ax.get_title()[:3] for ax in fig.axes] == ["(c)", "(d)"]
    assert list(labelled(fig.axes[0])) == ["mine"]  # a given label stands for the step rule
    plt.close(fig)
    with reading.open_results(runs["bn"]) as r:  # gradient norms and steps, no spectra
        fig = fig3_initscale.draw([r])
    assert [ax.get_title()[:3] for ax in fig.axes] == ["(b)", "(c)", "(d)"]
    plt.close(fig)
    paths = fig3_initscale.main([runs["dynamic"], runs["bn"], "--labels", "a,b", "--spectra-from", "a",
                                 "--out", str(tmp_path)])
    assert paths == [str(tmp_path / "fig3_initscale.png"), str(tmp_path / "fig3_initscale.pdf")]


# ---------------------------------------------------------------- summary and the driver


def test_summary_coupling_and_initscale_lines(runs, capsys):
    summary.main([runs["coupling"], runs["dynamic"], runs["constant"], "--labels", "c,d,k"])
    text = capsys.readouterr().out
    with h5py.File(runs["coupling"], "r") as f:
        for e in COUPLING_EPOCHS:
            g = f[f"coupling/epoch_{e:04d}/cc"]
            line = next(ln for ln in text.splitlines() if ln.split()[:2] == [str(e), "cc"])
            assert float(line.split()[4]) == pytest.approx(g.attrs["per_entry_mean"], rel=1e-4)
            assert float(line.split()[6]) == pytest.approx(g.attrs["exponent_mean"], abs=1e-3)
            assert float(line.split()[8]) == pytest.approx(g["counts"][()].sum() / g["total"][()].sum(), abs=1e-4)
    assert "null counts (Algorithm 3, 3 draws; table2.py)" in text
    with h5py.File(runs["dynamic"], "r") as f:
        assert f"E||grad R||^2 grows like c^{f['initscale'].attrs['grad_norm_sq_exponent']:.3f}" in text
    with h5py.File(runs["constant"], "r") as f:
        assert f["training"].attrs["diverged_what"] in text
    summary.main([runs["coupling"], "--csv"])
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert [int(r["epoch"]) for r in rows] == COUPLING_EPOCHS
    with h5py.File(runs["coupling"], "r") as f:
        for r in rows:
            for s in STATS:
                g = f[f"coupling/epoch_{int(r['epoch']):04d}/{s}"]
                assert float(r[f"{s}_per_entry"]) == g.attrs["per_entry_mean"]
                assert float(r[f"{s}_exponent_se"]) == g.attrs["exponent_standard_error"]


def test_quickstart_figures_draws_the_new_figures(runs, tmp_path, capsys):
    paths = quickstart_figures.main([runs["coupling"], "--out", str(tmp_path / "c")])
    err = capsys.readouterr().err
    names = sorted(os.path.basename(p) for p in paths)
    assert names == sorted(f"{s}.{x}" for s in ("fig1c_curves", "fig1de_cc_heatmaps", "fig1f_coupling", "fig5_null")
                           for x in ("png", "pdf")) + ["summary.csv", "summary.txt", "table2.csv", "table2.txt"]
    assert "fig1b_spectra: skipped" in err and "fig3_initscale: skipped" in err
    for p in paths:
        if p.endswith(".png"):
            img = plt.imread(p)
            assert img.shape[0] > 300 and np.ptp(img[..., :3]) > 0.5
    paths = quickstart_figures.main([runs["constant"], "--out", str(tmp_path / "k")])
    err = capsys.readouterr().err
    assert sorted(os.path.basename(p) for p in paths) == ["fig3_initscale.pdf", "fig3_initscale.png",
                                                          "summary.csv", "summary.txt"]
    assert "fig1c_curves: skipped" in err and "holds no finished epoch" in err
    assert "table2: skipped" in err and "fig1de_cc_heatmaps: skipped" in err


# ---------------------------------------------------------------- errors and the command line


@pytest.mark.parametrize("script,group", [(fig1de_cc_heatmaps, "coupling"), (fig1f_coupling, "coupling"),
                                          (fig5_null, "coupling/null"), (table2, "coupling/null")])
def test_missing_coupling_group_is_one_clear_error(script, group, edited, tmp_path, capsys):
    path = without(edited, "coupling", group)
    with pytest.raises(SystemExit) as e:
        script.main([path, "--out", str(tmp_path)])
    assert e.value.code == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith(f"{script.__name__}.py: error: {path} has no /{group} group")
    assert not os.listdir(tmp_path)


def test_other_errors(runs, edited, tmp_path, capsys):
    bare = edited("constant", lambda f: (f.__delitem__("training"), f.__delitem__("initscale")))
    with pytest.raises(SystemExit) as e:
        fig3_initscale.main([bare, "--out", str(tmp_path)])
    assert e.value.code == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"fig3_initscale.py: error: {bare} has neither /initscale nor /training/steps "
                   f"({reading.INITSCALE_HINT}, or {reading.STEPS_HINT})"]
    with pytest.raises(SystemExit):
        fig1de_cc_heatmaps.main([runs["coupling"], "--epochs", "7", "--out", str(tmp_path)])
    assert "no coupling statistics at epoch(s) [7] (it has [0, 1, 2])" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        fig3_initscale.main([runs["dynamic"], "--spectra-from", "nobody", "--out", str(tmp_path)])
    assert "--spectra-from nobody: no file of that label" in capsys.readouterr().err
    with pytest.raises(SystemExit) as e:
        fig1f_coupling.main([runs["coupling"], "--stats", "cc,moments"])
    assert e.value.code == 2 and "unknown moments" in capsys.readouterr().err
    assert not os.listdir(tmp_path)


@pytest.mark.parametrize("name", ["fig1de_cc_heatmaps.py", "fig1f_coupling.py", "fig3_initscale.py", "fig5_null.py",
                                  "table2.py"])
def test_command_line_help_and_error(name, tmp_path):
    script = os.path.join(POSTPROCESS, name)
    h = subprocess.run([sys.executable, script, "--help"], capture_output=True, text=True)
    assert h.returncode == 0 and "Reads from each results file" in h.stdout and "--out DIR" in h.stdout
    bad = subprocess.run([sys.executable, script, str(tmp_path / "x.h5")], capture_output=True, text=True)
    assert bad.returncode == 1 and bad.stderr == f"{name}: error: {tmp_path / 'x.h5'}: no such file\n"


def test_fig1f_panel_c_counts_against_nb_with_the_fitted_exponent(tmp_path):
    """With several N_b (-coupling_nb 6,12) Fig. 1f gains a log-log panel of the
    count per entry against N_b whose legend gives the fitted exponents."""
    res = nncas(tmp_path / "nb", "-data_format", "mixture", "-synth_shape", "1,1,16", "-synth_train", 320, "-synth_val", 64,
                "-net_layers", "dense:8,bn,relu,dense:8,relu,dense:1", "-train_epochs", 1, "-train_batch", 32,
                "-coupling_every", 1, "-coupling_nb", "6,12", "-coupling_nb_high", 4, "-coupling_draws", 2,
                "-coupling_calibrate", "false")
    with reading.open_results(res) as r:
        fig = fig1f_coupling.draw([r])
        sr = fig1f_coupling.nb_series(r, 1)
    assert len(fig.axes) == 3
    axc = fig.axes[2]
    assert axc.get_xscale() == axc.get_yscale() == "log" and axc.get_xlabel() == "N_b"
    np.testing.assert_array_equal(sr["nb"], [6, 12])
    with h5py.File(res, "r") as f:
        g = f["coupling/epoch_0001/cc"]
        np.testing.assert_allclose(sr["entry"], (g["counts_by_nb"][()] / np.array([36.0, 144.0])).mean(axis=0))
        e = g.attrs["fit_exponent"]
    labels = [t.get_text() for t in axc.get_legend().get_texts()]
    if np.isfinite(e):
        assert any(f"fitted N_b^{e:.2f}" in t for t in labels), labels
    assert any("single-N_b conversion at N_b = 12" in t for t in labels), labels
    plt.close(fig)


class _Run:
    """A stand-in for reading.Results in bn_gradient_ratio: label, attrs (net_spec), option()."""

    def __init__(self, label, spec, c):
        self.label, self.attrs, self._c = label, {"net_spec": spec}, c

    def option(self, name):
        return self._c if name == "net_init_c" else None


def test_fig3_bn_gradient_ratio_pairs_runs_with_and_without_bn():
    """Sec. 5.2's ~10^4 -> ~10^2: the ratio of the median ||g||^2 of a run without BN
    to one with BN (same step rule and c), with a bootstrap interval around it."""
    rng = np.random.default_rng(1)
    steps = lambda scale: {"grad_norm": np.sqrt(scale * rng.lognormal(0, 0.3, 300)),  # noqa: E731
                           "attrs": {"step_rule": "dynamic"}}
    plain, bn = _Run("plain", "conv:4:3:1,relu,dense:1", "2"), _Run("bn", "conv:4:3:1,bn,relu,dense:1", "2")
    other_c = _Run("bn_c1", "conv:4:3:1,bn,relu,dense:1", "1")
    runs = [(plain, steps(1e4)), (bn, steps(1e2)), (other_c, steps(1e2))]
    (row,) = fig3_initscale.bn_gradient_ratio(runs)
    l0, l1, m0, m1, ratio, lo, hi = row
    assert (l0, l1) == ("plain", "bn")
    x0, x1 = runs[0][1]["grad_norm"][:200] ** 2, runs[1][1]["grad_norm"][:200] ** 2
    assert m0 == np.median(x0) and m1 == np.median(x1) and ratio == m0 / m1
    assert lo < ratio < hi and 50 < lo and hi < 200
    runs[1][1]["attrs"]["step_rule"] = "constant"  # another step rule: no pair
    assert fig3_initscale.bn_gradient_ratio(runs) == []
