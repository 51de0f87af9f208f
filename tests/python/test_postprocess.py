"""The postprocess scripts on a small real results file written by nncas in the
test (2 ranks, 2 epochs, spectra at epochs 0, 1, 2): every figure is drawn and
its content checked against the file (axes, scales, one curve per epoch with a
spectrum, legend, no NaN), the summary's rows and numbers against the file's
attributes, and a missing file or group gives exit status 1 and one message."""
import csv
import io
import os
import shutil
import subprocess
import sys

import h5py
import matplotlib

matplotlib.use("Agg")
import matplotlib.image  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

import cli  # noqa: E402
import h5flat  # noqa: E402
import reading  # noqa: E402
import fig1b_spectra  # noqa: E402
import fig1c_curves  # noqa: E402
import quickstart_figures  # noqa: E402
import summary  # noqa: E402

BUILD = os.environ.get("NNCAS_BUILD", "build")
POSTPROCESS = os.path.join(os.path.dirname(__file__), "..", "..", "postprocess")
EPOCHS = [0, 1, 2]


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    """OUTPUT_DIR of a tiny nncas run (results.h5, checkpoint.h5)."""
    out = tmp_path_factory.mktemp("post") / "tiny"
    cmd = ["mpiexec", "-q", "-n", "2", "--oversubscribe", os.path.join(BUILD, "nncas"),
           "-data_train_size", "300", "-data_val_size", "100", "-net_layers", "conv:3:5,relu,pool:4,dense:6,relu,dense:1",
           "-train_epochs", "2", "-train_batch", "50", "-spectrum_every", "1", "-hessian_samples", "60",
           "-spectrum_trace_vecs", "10", "-output_dir", str(out)]
    subprocess.run(cmd, check=True, capture_output=True)
    return out


@pytest.fixture(scope="module")
def results(run):
    return str(run / "results.h5")


@pytest.fixture(scope="module")
def without(run, tmp_path_factory):
    """without(group): a copy of the run whose results.h5 lacks /group."""
    def make(group):
        d = tmp_path_factory.mktemp("no_" + group) / "run"
        shutil.copytree(run, d)
        with h5py.File(d / "results.h5", "a") as f:
            del f[group]
        return str(d / "results.h5")
    return make


@pytest.fixture(scope="module")
def old_layout(run, tmp_path_factory):
    """The run's results as a results.h5 of the layout before 2026-12-07: every
    group inside the file, no results/ beside it."""
    return h5flat.flatten(str(run / "results.h5"), str(tmp_path_factory.mktemp("old") / "results.h5"))


def finite_lines(ax):
    for line in ax.get_lines():
        x, y = (np.asarray(v, dtype=float) for v in line.get_data())
        assert len(x) > 0 and np.all(np.isfinite(x)) and np.all(np.isfinite(y)), line.get_label()
    return ax.get_lines()


def test_density_resmoothing_reproduces_nncas(results):
    with reading.open_results(results) as r:
        assert r.spectrum_epochs() == EPOCHS
        for e in EPOCHS:
            d = r.density(e)
            with h5py.File(results, "r") as f:
                np.testing.assert_array_equal(d.density, f[f"spectrum/epoch_{e:04d}/density/density"][()])
            # the same kernel evaluated offline, from the stored Ritz values and weights
            peak = d.density.max()
            np.testing.assert_allclose(d.evaluate(d.grid)[0], d.density, rtol=0, atol=1e-12 * peak)
            np.testing.assert_allclose(r.density(e, width=d.width).density, d.density, rtol=0, atol=1e-12 * peak)
            # another width: still a probability density, narrower kernel -> higher peak
            n = r.density(e, width=30)
            assert n.sigma < d.sigma and abs(np.trapz(n.density, n.grid) - 1) < 1e-3
            x, w = d.ritz_measure()
            assert len(x) == d.steps.sum() and abs(w.sum() - 1) < 1e-12


def test_fig1b_one_curve_per_epoch_on_symlog_log_axes(results):
    with reading.open_results(results, "tiny") as r:
        fig = fig1b_spectra.draw([r])
        dens = {e: r.density(e) for e in EPOCHS}
    assert len(fig.axes) == 1
    ax = fig.axes[0]
    assert ax.get_xscale() == "symlog" and ax.get_yscale() == "log"
    lines = finite_lines(ax)
    assert len(lines) == len(EPOCHS)
    assert [t.get_text() for t in ax.get_legend().get_texts()] == [str(e) for e in EPOCHS]
    assert ax.get_legend().get_title().get_text() == "epoch"
    assert "tiny" in ax.get_title()
    assert "eigenvalue" in ax.get_xlabel() and "density" in ax.get_ylabel()
    lo, hi = ax.get_xlim()
    assert lo == -hi and hi >= max(max(-d.lo, d.hi) for d in dens.values())
    for line, e in zip(lines, EPOCHS):
        x, y = line.get_data()
        d = dens[e]
        assert np.all(y > 0)  # floored for the log axis
        assert x.min() >= d.lo and x.max() <= d.hi
        # the drawn curve is the stored density (same kernel), above the floor
        ref = np.interp(x, d.grid, d.density)
        big = ref > 1e-2 * d.density.max()
        np.testing.assert_allclose(y[big], ref[big], rtol=0.1)
        assert abs(y.max() / d.density.max() - 1) < 0.05
    # linear range: the smallest kernel width, unless set
    assert ax.xaxis.get_transform().linthresh == pytest.approx(min(d.sigma for d in dens.values()))
    plt.close(fig)


def test_fig1b_several_files_and_options(results, tmp_path):
    runs = cli.load_all([results, results], "LeNet,VGG")
    fig = fig1b_spectra.draw(runs, epochs=[0, 2], linthresh=1e-3, stored=True)
    for r in runs:
        r.close()
    assert len(fig.axes) == 2
    assert ["LeNet" in fig.axes[0].get_title(), "VGG" in fig.axes[1].get_title()] == [True, True]
    for ax in fig.axes:
        assert len(finite_lines(ax)) == 2
        assert [t.get_text() for t in ax.get_legend().get_texts()] == ["0", "2"]
        assert ax.xaxis.get_transform().linthresh == 1e-3
        assert len(ax.get_lines()[0].get_xdata()) == 1024  # --stored: the K grid points
    plt.close(fig)
    paths = fig1b_spectra.main([results, results, "--labels", "a,b", "--sigma", "0.01", "--out", str(tmp_path)])
    assert paths == [str(tmp_path / "fig1b_spectra.png"), str(tmp_path / "fig1b_spectra.pdf")]
    img = matplotlib.image.imread(paths[0])
    assert img.ndim == 3 and img.shape[1] > 1.5 * img.shape[0]  # two panels side by side
    assert open(paths[1], "rb").read(5) == b"%PDF-"


def test_fig1c_curves_are_the_files(results):
    with h5py.File(results, "r") as f:
        tr = {k: f["training"][k][()] for k in f["training"]}
        risk = [f[f"spectrum/epoch_{e:04d}"].attrs["risk"] for e in EPOCHS]
    with reading.open_results(results) as r:
        fig = fig1c_curves.draw([r])
    assert len(fig.axes) == 2
    axl, axa = fig.axes
    assert axl.get_yscale() == "log" and "loss" in axl.get_ylabel() and "%" in axa.get_ylabel()
    assert axl.get_xlabel() == axa.get_xlabel() == "epoch"
    ll, la = finite_lines(axl), finite_lines(axa)
    assert len(ll) == 3 and len(la) == 2  # training, validation (+ the risk at the spectra)
    np.testing.assert_array_equal(ll[0].get_xdata(), tr["epoch"])
    np.testing.assert_array_equal(ll[0].get_ydata(), tr["train_loss"])
    np.testing.assert_array_equal(ll[1].get_ydata(), tr["val_loss"])
    np.testing.assert_allclose(la[0].get_ydata(), 100 * tr["train_acc"])
    np.testing.assert_allclose(la[1].get_ydata(), 100 * tr["val_acc"])
    np.testing.assert_array_equal(ll[2].get_xdata(), EPOCHS)
    np.testing.assert_array_equal(ll[2].get_ydata(), risk)
    assert [t.get_text() for t in axl.get_legend().get_texts()] == ["training", "validation", "risk on the Hessian's samples"]
    plt.close(fig)
    runs = cli.load_all([results, results], "A,B")
    fig = fig1c_curves.draw(runs, logy=False)
    for r in runs:
        r.close()
    assert len(fig.axes[0].get_lines()) == 6 and len(fig.axes[1].get_lines()) == 4
    assert fig.axes[0].get_yscale() == "linear"
    assert [t.get_text() for t in fig.axes[1].get_legend().get_texts()] == ["A", "B"]
    plt.close(fig)


def test_summary_rows_and_numbers_are_the_files(results, tmp_path, capsys):
    summaries, paths = summary.main([results, "--csv", "--zero-tol", "0.02", "--out", str(tmp_path)])
    out = capsys.readouterr().out
    rows = list(csv.DictReader(io.StringIO(out)))
    assert [int(r["epoch"]) for r in rows] == EPOCHS
    assert open(tmp_path / "summary.csv").read() == out
    with h5py.File(results, "r") as f:
        tr = f["training"]
        for row in rows:
            g = f[f"spectrum/epoch_{int(row['epoch']):04d}"]
            st = g["statistics"].attrs
            assert float(row["risk"]) == g.attrs["risk"]
            assert float(row["lambda_min"]) == g["extremes/lambda_min"][0]
            assert float(row["lambda_max"]) == g["extremes/lambda_max"][0]
            for k in ("abs_min_over_max", "negative_mass_fraction", "symmetry_w1", "symmetry_tv",
                      "norm2_over_mean_abs_loss_derivative", "trace", "trace_standard_error"):
                assert float(row[k]) == st[k], k
            assert float(row["lambda_max"]) > 0 > float(row["lambda_min"])
            # recomputed with nncas's tolerance (zero_tol ||H|| or the kernel width), the negative mass is nncas's
            x, w = g["density/ritz_values"][0], g["density/ritz_weights"][0]
            da = g["density"].attrs
            eps = max(st["zero_tol"] * st["norm2"], da["sigma_normalized"] * 0.5 * (da["hi"] - da["lo"]))
            assert reading.negative_mass(x, w, eps) == pytest.approx(st["negative_mass_fraction"])
            assert float(row["negative_mass_recomputed"]) == pytest.approx(
                reading.negative_mass(x, w, 0.02 * st["norm2"]))
            e = int(row["epoch"])
            if e == 0:
                assert row["train_loss"] == ""
            else:
                assert float(row["val_acc"]) == tr["val_acc"][e - 1]
        final = (tr["train_loss"][-1], tr["train_acc"][-1], tr["val_loss"][-1], tr["val_acc"][-1])
    text = open(tmp_path / "summary.txt").read()
    lines = text.splitlines()
    head = next(i for i, l in enumerate(lines) if l.split()[:2] == ["epoch", "risk"])
    table = [l.split() for l in lines[head + 1: head + 1 + len(EPOCHS)]]
    assert [int(t[0]) for t in table] == EPOCHS
    assert [float(t[1]) for t in table] == pytest.approx([float(r["risk"]) for r in rows], abs=1e-5)
    assert [float(t[3]) for t in table] == pytest.approx([float(r["lambda_max"]) for r in rows], rel=1e-4)
    assert (f"final (epoch 2): training loss {final[0]:.5f} accuracy {100 * final[1]:.2f}%, "
            f"validation loss {final[2]:.5f} accuracy {100 * final[3]:.2f}%") in text
    assert summaries[0]["final"]["epoch"] == 2


def test_old_layout_reads_the_same(results, old_layout, tmp_path, capsys):
    """A results.h5 of the layout before 2026-12-07 gives the same summary."""
    with h5py.File(old_layout, "r") as f:
        assert not any(isinstance(f[g].get(k, getlink=True), h5py.ExternalLink) for g in ("spectrum",) for k in f[g])
    summary.main([results, "--csv", "--out", str(tmp_path / "new")])
    summary.main([old_layout, "--csv", "--out", str(tmp_path / "old")])
    new, old = ([r[2:] for r in csv.reader(open(tmp_path / d / "summary.csv"))] for d in ("new", "old"))  # not label, file
    assert new == old and len(new) == len(EPOCHS) + 1


def test_results_without_their_files_is_one_clear_error(run, tmp_path, capsys):
    """results.h5 copied without results/: the first missing file is named."""
    shutil.copy(run / "results.h5", tmp_path / "results.h5")
    with pytest.raises(SystemExit) as e:
        summary.main([str(tmp_path / "results.h5"), "--out", str(tmp_path / "o")])
    assert e.value.code == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "results.h5 is the index of the files in results/ beside it" in err[0]
    assert f"links to {tmp_path / 'results'}/" in err[0]


def test_quickstart_figures_draws_everything(run, tmp_path, capsys):
    paths = quickstart_figures.main([str(run), "--out", str(tmp_path / "figures")])  # OUTPUT_DIR works too
    printed = capsys.readouterr().out.split()
    names = sorted(os.path.basename(p) for p in paths)
    assert names == ["fig1b_spectra.pdf", "fig1b_spectra.png", "fig1c_curves.pdf", "fig1c_curves.png",
                     "summary.csv", "summary.txt"]
    assert printed == paths
    for p in paths:
        assert os.path.getsize(p) > 0
        if p.endswith(".png"):
            img = matplotlib.image.imread(p)
            assert img.shape[0] > 300 and np.ptp(img[..., :3]) > 0.5  # not blank


def test_quickstart_figures_skips_what_a_file_lacks(without, tmp_path, capsys):
    paths = quickstart_figures.main([without("spectrum"), "--out", str(tmp_path)])
    err = capsys.readouterr().err
    assert sorted(os.path.basename(p) for p in paths) == ["fig1c_curves.pdf", "fig1c_curves.png",
                                                          "summary.csv", "summary.txt"]
    assert "fig1b_spectra: skipped" in err and "has no /spectrum" in err
    assert "no spectra" in open(tmp_path / "summary.txt").read()


@pytest.mark.parametrize("script", [fig1b_spectra, fig1c_curves, summary, quickstart_figures])
def test_missing_file_is_one_clear_error(script, tmp_path, capsys):
    with pytest.raises(SystemExit) as e:
        script.main([str(tmp_path / "nothing.h5"), "--out", str(tmp_path)])
    assert e.value.code == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"{script.__name__}.py: error: {tmp_path / 'nothing.h5'}: no such file"]


@pytest.mark.parametrize("script,group", [(fig1b_spectra, "spectrum"), (fig1c_curves, "training")])
def test_missing_group_is_one_clear_error(script, group, without, tmp_path, capsys):
    path = without(group)
    with pytest.raises(SystemExit) as e:
        script.main([path, "--out", str(tmp_path)])
    assert e.value.code == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith(f"{script.__name__}.py: error: {path} has no /{group} group")
    assert not os.listdir(tmp_path)  # nothing written


def test_not_a_results_file(run, capsys):
    with pytest.raises(SystemExit) as e:
        fig1b_spectra.main([str(run / "checkpoint.h5")])
    assert e.value.code == 1
    assert "kind 'nncas checkpoint', not an nncas results file" in capsys.readouterr().err
    with pytest.raises(SystemExit) as e:
        fig1b_spectra.main([str(run / "results.h5"), "--epochs", "7"])
    assert e.value.code == 1 and "no spectrum at epoch(s) [7] (it has [0, 1, 2])" in capsys.readouterr().err


@pytest.mark.parametrize("name", ["fig1b_spectra.py", "fig1c_curves.py", "summary.py", "quickstart_figures.py"])
def test_command_line(name, results, tmp_path):
    """The scripts as programs: --help names the groups read; errors exit 1 with one line."""
    script = os.path.join(POSTPROCESS, name)
    h = subprocess.run([sys.executable, script, "--help"], capture_output=True, text=True)
    assert h.returncode == 0 and "Reads from each results file" in h.stdout and "--out DIR" in h.stdout
    bad = subprocess.run([sys.executable, script, str(tmp_path / "x.h5")], capture_output=True, text=True)
    assert bad.returncode == 1 and bad.stderr.count("\n") == 1 and "error: " in bad.stderr
    ok = subprocess.run([sys.executable, script, results, "--out", str(tmp_path / "o")], capture_output=True, text=True)
    assert ok.returncode == 0, ok.stderr
