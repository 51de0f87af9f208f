"""postprocess/nscaling.py on results files written here with known counts:
the exponent of N it fits is the one the counts were made with, inside its
intervals; the single-N_b statistic and the slope across N_b are the formulas
of App. E.5 and docs/coupling.md; the geometry split counts the correlated
pairs of a known matrix and its null split equals a brute-force count."""
import itertools
import math

import h5py
import numpy as np
import pytest

import nscaling

WIDTHS = (16, 64, 256, 1024)


def n_of(w):
    return 784 * w + w + w * w + w + w + 1


def write_run(path, w, seed, slopes, rng, draws=5, full=None):
    """A results file of an MLP of width w whose counts per entry are
    c N^slope[stat] times a log-normal scatter (sd 0.1), at epochs 0 and 10."""
    N = n_of(w)
    with h5py.File(path, "w") as f:
        f.attrs["net_parameters"] = N
        f.attrs["net_spec"] = f"dense:{w},bn,relu,dense:{w},bn,relu,dense:1"
        f.attrs["options"] = f"-net_seed {seed} -coupling_draws {draws}"
        for epoch in (0, 10):
            g = f.create_group(f"coupling/epoch_{epoch:04d}")
            g.attrs["epoch"] = epoch
            for stat, nb in (("cc", 100), ("skewness", 10), ("kurtosis", 10)):
                h = g.create_group(stat)
                h.attrs["N_b"] = nb
                h.attrs["threshold"] = 0.4
                x = 1e3 * N ** slopes[stat] * np.exp(rng.normal(0, 0.1, draws))
                h["per_entry"] = x
                if stat == "cc":
                    nbs = np.array([10, 20, 50, 100])
                    h["nb"] = nbs
                    h["per_entry_by_nb"] = x[:, None] * (nbs[None, :] / 100.0) ** 1.5
                    if full is not None:
                        C, rows, cols, lr = full
                        h["full"] = C
                        h["row_index"] = rows[None, :]
                        h["col_index"] = cols[None, :]
                        h["blocks/layer_range"] = lr
                        h.attrs["N_b"] = len(rows)
        n = f.create_group("coupling/null")
        for stat in ("cc", "skewness", "kurtosis"):
            n.create_group(stat).attrs["count_mean"] = 1.0


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    d = tmp_path_factory.mktemp("nscaling")
    rng = np.random.default_rng(3)
    slopes = {"cc": -0.5, "skewness": -1.0, "kurtosis": -1.5}  # the paper's a = 3/2, 3, 9/2
    paths = []
    for w in WIDTHS:
        for s in (1, 2):
            p = d / f"w{w}_s{s}.h5"
            write_run(p, w, s, slopes, rng)
            paths.append(str(p))
    return paths


def test_exponent_of_n_is_recovered_within_its_intervals(files):
    res = nscaling.analyse(files, nboot=500)
    for stat, a_true in (("cc", 1.5), ("skewness", 3.0), ("kurtosis", 4.5)):
        for label in ("init", "end"):
            fit = res["stats"][f"{stat}/{label}"]["fit"]
            assert abs(fit["a"] - a_true) < 0.05, (stat, fit)
            assert fit["boot_lo"] <= a_true <= fit["boot_hi"], (stat, fit)
            assert fit["t_lo"] <= a_true <= fit["t_hi"], (stat, fit)
            assert fit["draw_fits"] == 10


def test_rows_pool_seeds_and_give_the_single_nb_statistic(files):
    res = nscaling.analyse(files, nboot=200)
    rows = res["stats"]["cc/end"]["rows"]
    assert [r["N"] for r in rows] == [n_of(w) for w in WIDTHS]
    for r in rows:
        assert r["draws"] == 10
        assert r["lo"] < r["mean"] < r["hi"]
        assert r["se"] == pytest.approx(r["sd"] / math.sqrt(10))
        assert r["single_nb"] == pytest.approx(math.log(r["mean"]) / math.log(100))
        assert r["nb_slope"] == pytest.approx(1.5)  # the counts by N_b were made with N_b^1.5


def test_geometry_split_counts_known_pairs_and_the_null_by_brute_force(tmp_path):
    nb, M = 4, 16
    rows = np.array([0, 5, 10, 12])  # layer 0 holds [0, 8), layer 1 [8, 16)
    cols = np.array([1, 9, 3, 14])
    lr = np.array([[0, 8], [8, 8]])
    valid = np.ones(M, bool)
    valid[[3, 6]] = False  # two constant entries: zero rows and diagonal
    C = np.zeros((M, M))
    C[np.arange(M), np.arange(M)] = valid
    pairs = {(0, 1): 0.9, (0, 4): -0.8, (8, 14): 0.5, (5, 14): -0.45, (1, 3): 0.9, (2, 7): 0.3}
    for (a, b), r in pairs.items():
        C[a, b] = C[b, a] = r
    p = str(tmp_path / "g.h5")
    write_run(p, 16, 1, {"cc": -0.5, "skewness": -1, "kurtosis": -1.5}, np.random.default_rng(0), full=(C, rows, cols, lr))
    g = nscaling.geometry_split(p, 0)
    # v = p N_b + q is (i_p, j_q). (0, 1): p = 0 both, same row; (0, 4): q = 0
    # both, same column; (8, 14): (i_2, j_0) and (i_3, j_2), both in block
    # (layer 1, layer 0); (5, 14): (i_1, j_1) in block (0, 1) against (1, 0):
    # none; (1, 3): 3 is constant; (2, 7): below the threshold. Ordered pairs:
    # twice each.
    assert g["pairs"] == [2, 2, 2, 2]
    assert g["varying"] == 14
    pp, qq = np.repeat(np.arange(nb), nb), np.tile(np.arange(nb), nb)
    layer = lambda i: int(i >= 8)  # noqa: E731
    blk = [layer(rows[pp[v]]) * 2 + layer(cols[qq[v]]) for v in range(M)]
    brute = np.zeros(4)
    for a, b in itertools.permutations(np.flatnonzero(valid), 2):
        c = 0 if pp[a] == pp[b] else 1 if qq[a] == qq[b] else 2 if blk[a] == blk[b] else 3
        brute[c] += 1
    assert np.allclose(g["null_fraction"], brute / brute.sum())


def test_a_file_without_coupling_is_one_error(tmp_path):
    p = tmp_path / "empty.h5"
    with h5py.File(p, "w") as f:
        f.attrs["net_parameters"] = 1
    assert nscaling.main([str(p), "--out", str(tmp_path / "o"), "--no-figure"]) == 1


def test_reproduce_lists_the_nscaling_runs_in_their_order(tmp_path):
    import os
    import subprocess

    script = os.path.join(os.path.dirname(__file__), "..", "..", "jobs", "reproduce.sh")
    (tmp_path / "nscaling_w32_s1").mkdir()
    (tmp_path / "nscaling_w32_s1" / "DONE").write_text("exit status 0\n")
    out = subprocess.run(["bash", script, "-l", "-o", str(tmp_path), "nscaling"], capture_output=True, text=True, check=True)
    names = [line.split()[0] for line in out.stdout.splitlines()]
    widths = (16, 32, 64, 128, 256, 512)
    assert names == ([f"nscaling_w{w}_s1" for w in widths] + [f"nscaling_w{w}_s2" for w in widths]
                     + ["nscaling_w1024_s1", "nscaling_w1024_s2"])
    assert "done" in out.stdout.splitlines()[1] and "not started" in out.stdout.splitlines()[0]
    bad = subprocess.run(["bash", script, "-l", "nscaling_w17_s1"], capture_output=True, text=True)
    assert bad.returncode == 2 and "unknown experiment" in bad.stderr


def test_main_writes_the_tables_json_and_figure(files, tmp_path, capsys):
    import json

    assert nscaling.main(files + ["--out", str(tmp_path), "--bootstrap", "100"]) == 0
    text = capsys.readouterr().out
    import re

    a = [float(x) for x in re.findall(r"exponent of N: a = ([0-9.]+)", text)]
    assert len(a) == 6 and abs(a[0] - 1.5) < 0.05 and abs(a[-1] - 4.5) < 0.05  # CC first, kurtosis last
    res = json.loads((tmp_path / "nscaling.json").read_text())
    assert set(res["stats"]) == {f"{s}/{e}" for s in nscaling.STATS for e in ("init", "end")}
    assert (tmp_path / "nscaling.png").stat().st_size > 10000


def test_geometry_fit_separates_row_and_column_pairs_from_the_others():
    # row/column pairs: a count per entry independent of N (slope 0, a = 2);
    # the others ~ N^{-1/2} (a = 3/2)
    geo = []
    for N in (1e4, 1e5, 1e6):
        rc, other = 20.0 * 1e4, 50.0 * 1e4 * (N / 1e4) ** -0.5  # pairs in a 100 x 100 sample
        geo.append({"N": N, "label": "end", "N_b": 100, "pairs": [rc / 2, rc / 2, other / 2, other / 2]})
    fit = nscaling.geometry_fit(geo)["end"]
    assert fit["row_or_column"]["a"] == pytest.approx(2.0)
    assert fit["other"]["a"] == pytest.approx(1.5)
    assert fit["other"]["per_entry"][0] == pytest.approx(50.0)


def test_counts_file_stands_in_for_the_results_files(files, tmp_path, capsys):
    """--counts-out keeps each run's per-draw counts and geometry; read back, the
    analysis is the one of the results files, and a run in both is taken once."""
    def both_ways(paths, name):
        counts = tmp_path / f"{name}.json"
        assert nscaling.main(paths + ["--out", str(tmp_path / name), "--no-figure", "--counts-out", str(counts)]) == 0
        direct = capsys.readouterr().out
        assert nscaling.main([str(counts), "--out", str(tmp_path / name), "--no-figure"]) == 0
        assert capsys.readouterr().out == direct
        assert nscaling.main([str(counts)] + paths[:3] + ["--out", str(tmp_path / name), "--no-figure"]) == 0
        assert capsys.readouterr().out == direct
        return direct

    both_ways(files, "counts")
    geo_runs = []
    nb = 6
    C = np.eye(nb * nb)
    C[0, 7] = C[7, 0] = 0.9  # one correlated pair
    for w in (16, 32):
        geo_runs.append(str(tmp_path / f"geo{w}.h5"))
        write_run(geo_runs[-1], w, 1, {"cc": -0.5, "skewness": -1.0, "kurtosis": -1.5}, np.random.default_rng(w),
                  full=(C, np.arange(nb), np.arange(nb), np.array([[0, 100]])))
    assert "same row" in both_ways(geo_runs, "geo")
    bad = tmp_path / "bad.json"
    bad.write_text('{"runs": []}')
    assert nscaling.main([str(bad), "--out", str(tmp_path / "d")]) == 1
    assert "not a counts file" in capsys.readouterr().err


def test_geometry_of_every_draw_is_summed_over_the_draws(tmp_path, capsys):
    """Where nncas wrote cc/geometry (every draw), the geometry rows are the sums
    over the draws and the fit uses the mean per draw."""
    paths = []
    for w, scale in ((16, 1.0), (64, 0.5), (256, 0.25)):
        p = tmp_path / f"g{w}.h5"
        write_run(p, w, 1, {"cc": -0.5, "skewness": -1.0, "kurtosis": -1.5}, np.random.default_rng(w))
        with h5py.File(p, "a") as f:
            for e in (0, 10):
                geo = np.array([[10, 6, 2, 2, 90, 90, 1000, 8800], [30, 18, 6, 6, 90, 90, 1000, 8800]]) * scale
                f[f"coupling/epoch_{e:04d}/cc/geometry"] = geo
        paths.append(str(p))
    res = nscaling.analyse(paths, nboot=50)
    rows = [g for g in res["geometry"] if g["epoch"] == 0]
    assert [g["draws"] for g in rows] == [2, 2, 2]
    np.testing.assert_allclose(rows[0]["pairs"], [40, 24, 8, 8])
    np.testing.assert_allclose(rows[0]["null_fraction"], np.array([90, 90, 1000, 8800]) / 9980)
    fit = res["geometry_fit"]["init"]["row_or_column"]
    np.testing.assert_allclose(fit["per_entry"], np.array([32, 16, 8]) / 100**2)  # (40 + 24) / 2 draws / N_b^2, halving
