"""The coupling stage (App. E) through the nncas program: the same counts,
exponents and correlation submatrix on 1, 2 and 3 ranks, consistent records,
the Monte Carlo null group of Algorithm 3, the counts at several N_b
(-coupling_nb 10,20: nested draws, the exponent fitted across them) and the
counts by layer block."""
import os
import subprocess

import h5py
import numpy as np
import pytest

BUILD = os.environ.get("NNCAS_BUILD", "build")
# ReLU and hinge loss without normalization: layers 0 (conv, 78 parameters), 1 (dense 108 -> 6, 654) and 2 (dense 6 -> 1, 7)
LAYERS = "conv:3:5,relu,pool:4,dense:6,relu,dense:1"


def run(out, ranks, nb="10,20", *extra):
    cmd = ["mpiexec", "-q", "-n", str(ranks), "--oversubscribe", os.path.join(BUILD, "nncas"),
           "-data_train_size", "360", "-data_val_size", "60", "-net_layers", LAYERS,
           "-train_epochs", "1", "-train_batch", "30", "-coupling_every", "1", "-coupling_nb", nb, "-coupling_nb_high", "6",
           "-coupling_draws", "2", "-coupling_null_draws", "2", "-coupling_submatrix", "25",
           "-coupling_threshold_cc", "0.6", "-coupling_threshold_skewness", "0.9", "-coupling_threshold_kurtosis", "2",
           "-output_dir", str(out), *extra]
    subprocess.run(cmd, check=True, capture_output=True)
    return h5py.File(out / "results.h5", "r")


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """results.h5 of -coupling_nb 10,20 on 1, 2 (with the whole correlation matrix) and 3 ranks, and of -coupling_nb 10 alone (3 ranks)."""
    d = tmp_path_factory.mktemp("coupling")
    out = {r: run(d / f"np{r}", r, "10,20", *(["-coupling_full_cc"] if r == 2 else [])) for r in (1, 2, 3)}
    out["nb10"] = run(d / "nb10", 3, "10")
    return out


def test_coupling_counts_identical_on_1_2_3_ranks(runs):
    files = [runs[r] for r in (1, 2, 3)]
    ref = files[0]["coupling"]
    assert sorted(ref.keys()) == ["epoch_0000", "epoch_0001", "null"]
    for f in files[1:]:
        g = f["coupling"]
        for e in ("epoch_0000", "epoch_0001"):
            for stat in ("cc", "skewness", "kurtosis"):
                for name in ("counts", "total", "row_index", "col_index", "constant_variables"):
                    np.testing.assert_array_equal(g[f"{e}/{stat}/{name}"][()], ref[f"{e}/{stat}/{name}"][()])
            for name in ("nb", "counts_by_nb", "varying_by_nb", "blocks/variables", "blocks/varying", "blocks/pairs", "geometry"):
                np.testing.assert_array_equal(g[f"{e}/cc/{name}"][()], ref[f"{e}/cc/{name}"][()])
            np.testing.assert_allclose(g[f"{e}/cc/submatrix"][()], ref[f"{e}/cc/submatrix"][()], atol=1e-12)
        for stat in ("cc", "skewness", "kurtosis"):
            np.testing.assert_array_equal(g[f"null/{stat}/counts"][()], ref[f"null/{stat}/counts"][()])


def test_coupling_records_are_consistent(runs):
    f = runs[2]
    g = f["coupling/epoch_0001"]
    assert g.attrs["n"] == 12 and g.attrs["draws"] == 2
    for stat, nb in (("cc", 20), ("skewness", 6), ("kurtosis", 6)):
        s = g[stat]
        counts, per_entry = s["counts"][()], s["per_entry"][()]
        np.testing.assert_allclose(per_entry, counts / nb**2)
        valid = nb * nb - s["constant_variables"][()]
        total = {"cc": valid * (valid - 1), "skewness": valid**3, "kurtosis": valid**4}[stat]
        np.testing.assert_array_equal(s["total"][()], total)
        assert s["row_index"].shape == (2, nb) and s.attrs["N_b"] == nb
        if per_entry.mean() > 0:
            assert abs(s.attrs["exponent_mean"] - np.log(per_entry.mean()) / np.log(nb)) < 1e-12
    sub = g["cc/submatrix"][()]
    assert sub.shape == (25, 25)
    assert np.allclose(sub, sub.T) and np.all(np.abs(sub) <= 1 + 1e-12)
    d = np.diag(sub)
    assert np.all((np.abs(d - 1) < 1e-12) | (d == 0))  # 1, or 0 for a constant entry
    hist = g["cc/histogram"][()]
    assert hist.sum() == g["cc/total"][0]
    null = f["coupling/null/cc"]
    assert null.attrs["threshold"] == 0.6 and null["counts"].shape == (2,)


def _slope(nb, y):
    ok = y > 0
    return np.polyfit(np.log(nb[ok]), np.log(y[ok]), 1)[0] if ok.sum() >= 2 else np.nan


def test_counts_by_nb_and_the_fitted_exponent(runs):
    """The largest N_b's column is the draw's counts; the per-entry records and
    the fits are those of the counts (mean slope over draws, its error sd/sqrt(B))."""
    for e in ("epoch_0000", "epoch_0001"):
        s = runs[1][f"coupling/{e}/cc"]
        nb, c, v = s["nb"][()], s["counts_by_nb"][()], s["varying_by_nb"][()]
        assert nb.tolist() == [10, 20] and c.shape == v.shape == (2, 2)
        np.testing.assert_array_equal(c[:, -1], s["counts"][()])
        np.testing.assert_array_equal(v[:, -1], 400 - s["constant_variables"][()])
        np.testing.assert_allclose(s["per_entry_by_nb"][()], c / nb**2.0)
        for norm, suffix in ((np.broadcast_to(nb**2.0, c.shape), ""), (v, "_varying")):
            with np.errstate(invalid="ignore", divide="ignore"):
                y = np.where(norm > 0, c / norm, np.nan)
            slopes = np.array([_slope(nb, row) for row in y])
            fit = slopes[np.isfinite(slopes)]
            assert s.attrs[f"fit_draws{suffix}"] == len(fit)
            if len(fit):
                assert abs(s.attrs[f"fit_exponent{suffix}"] - fit.mean()) < 1e-9
            if len(fit) > 1:
                assert abs(s.attrs[f"fit_exponent{suffix}_standard_error"] - fit.std(ddof=1) / np.sqrt(len(fit))) < 1e-9
            pooled = c.sum(axis=0) / norm.sum(axis=0)
            np.testing.assert_allclose(s.attrs[f"fit_exponent{suffix}_of_mean"], _slope(nb, pooled), atol=1e-9)


def test_smaller_nb_counts_equal_a_run_at_that_nb(runs):
    """Nested draws: N_b = 10 of -coupling_nb 10,20 (1 rank) is a run with -coupling_nb 10 (3 ranks), same seed."""
    for e in ("epoch_0000", "epoch_0001"):
        big, small = runs[1][f"coupling/{e}/cc"], runs["nb10"][f"coupling/{e}/cc"]
        np.testing.assert_array_equal(big["row_index"][:, :10], small["row_index"][()])
        np.testing.assert_array_equal(big["col_index"][:, :10], small["col_index"][()])
        np.testing.assert_array_equal(big["counts_by_nb"][:, 0], small["counts"][()])
        np.testing.assert_array_equal(big["varying_by_nb"][:, 0], 100 - small["constant_variables"][()])
        assert small["nb"][()].tolist() == [10] and np.isnan(small.attrs["fit_exponent"])


def test_layer_blocks_hold_the_correlations(runs):
    """The first draw by layer block: the variables are those of the index
    vectors; a ReLU net under hinge loss has exactly zero same-layer blocks, so
    no varying variable and no correlated pair there; the pairs are those of
    the whole correlation matrix (-coupling_full_cc) and sum to s_0."""
    for e in ("epoch_0000", "epoch_0001"):
        s = runs[2][f"coupling/{e}/cc"]
        b = s["blocks"]
        rng = b["layer_range"][()]
        assert rng.tolist() == [[0, 78], [78, 654], [732, 7]]
        layer = lambda idx: np.searchsorted(rng[:, 0], idx, side="right") - 1  # noqa: E731
        li, lj = layer(s["row_index"][0]), layer(s["col_index"][0])
        expect = np.zeros((3, 3))
        np.add.at(expect, (li[:, None].repeat(20, 1), lj[None, :].repeat(20, 0)), 1)
        np.testing.assert_array_equal(b["variables"][()], expect)
        varying, corr, pairs = b["varying"][()], b["correlated"][()], b["pairs"][()]
        assert varying.sum() == 400 - s["constant_variables"][0]
        assert np.all(np.diag(varying) == 0) and np.all(np.diag(corr) == 0)
        np.testing.assert_array_equal(pairs.sum(axis=1).reshape(3, 3), corr)
        assert corr.sum() == s["counts"][0] and pairs.shape == (9, 9)
        dead = varying.ravel() == 0
        assert np.all(pairs[dead, :] == 0) and np.all(pairs[:, dead] == 0)
        np.testing.assert_array_equal(pairs, pairs.T)  # r_ab = r_ba
        r = s["full"][()]
        valid = np.diag(r) > 0.5  # 1 for a varying variable, 0 for a constant one
        above = (np.abs(r) > 0.6) & valid[:, None] & valid[None, :] & ~np.eye(400, dtype=bool)
        blk = (li[:, None] * 3 + lj[None, :]).ravel()  # block of variable p N_b + q
        direct = np.zeros((9, 9))
        np.add.at(direct, (blk[:, None].repeat(400, 1)[above], blk[None, :].repeat(400, 0)[above]), 1)
        np.testing.assert_array_equal(pairs, direct)


def test_geometry_of_every_draw_against_the_whole_matrix(runs):
    """cc/geometry: per draw, the correlated ordered pairs by the first class that
    fits (same row index, same column index, same layer block, none) sum to s_0,
    the null split to V(V - 1); the first draw's equal a brute-force count over
    the whole correlation matrix (postprocess/nscaling.py's geometry_split)."""
    import nscaling

    f = runs[2]
    for e in (0, 1):
        g = f[f"coupling/epoch_{e:04d}/cc"]
        geo = g["geometry"][()]
        assert geo.shape == (2, 8)
        np.testing.assert_array_equal(geo[:, :4].sum(axis=1), g["counts"][()])
        valid = 400 - g["constant_variables"][()]
        np.testing.assert_array_equal(geo[:, 4:].sum(axis=1), valid * (valid - 1))
        brute = nscaling.geometry_split(f.filename, e)
        assert brute["varying"] == valid[0]
        np.testing.assert_array_equal(geo[0, :4], brute["pairs"])
        np.testing.assert_allclose(geo[0, 4:] / geo[0, 4:].sum(), brute["null_fraction"], rtol=1e-12)
    assert f["coupling/epoch_0001/cc/geometry"][()][:, :4].sum() > 0  # the test sees correlated pairs
