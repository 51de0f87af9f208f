"""The coupling stage (App. E) through the nncas program: the same counts,
exponents and correlation submatrix on 1, 2 and 3 ranks, consistent records,
and the Monte Carlo null group of Algorithm 3."""
import os
import subprocess

import h5py
import numpy as np

BUILD = os.environ.get("NNCAS_BUILD", "build")


def run(tmp_path, ranks):
    out = tmp_path / f"np{ranks}"
    cmd = ["mpiexec", "-q", "-n", str(ranks), "--oversubscribe", os.path.join(BUILD, "nncas"),
           "-data_train_size", "360", "-data_val_size", "60", "-net_layers", "conv:3:5,relu,pool:4,dense:6,relu,dense:1",
           "-train_epochs", "1", "-train_batch", "30", "-coupling_every", "1", "-coupling_nb", "20", "-coupling_nb_high", "6",
           "-coupling_draws", "2", "-coupling_null_draws", "2", "-coupling_submatrix", "25",
           "-coupling_threshold_cc", "0.6", "-coupling_threshold_skewness", "0.9", "-coupling_threshold_kurtosis", "2",
           "-output_dir", str(out)]
    subprocess.run(cmd, check=True, capture_output=True)
    return h5py.File(out / "results.h5", "r")


def test_coupling_counts_identical_on_1_2_3_ranks(tmp_path):
    files = [run(tmp_path, r) for r in (1, 2, 3)]
    ref = files[0]["coupling"]
    assert sorted(ref.keys()) == ["epoch_0000", "epoch_0001", "null"]
    for f in files[1:]:
        g = f["coupling"]
        for e in ("epoch_0000", "epoch_0001"):
            for stat in ("cc", "skewness", "kurtosis"):
                for name in ("counts", "total", "row_index", "col_index", "constant_variables"):
                    np.testing.assert_array_equal(g[f"{e}/{stat}/{name}"][()], ref[f"{e}/{stat}/{name}"][()])
            np.testing.assert_allclose(g[f"{e}/cc/submatrix"][()], ref[f"{e}/cc/submatrix"][()], atol=1e-12)
        for stat in ("cc", "skewness", "kurtosis"):
            np.testing.assert_array_equal(g[f"null/{stat}/counts"][()], ref[f"null/{stat}/counts"][()])


def test_coupling_records_are_consistent(tmp_path):
    f = run(tmp_path, 2)
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
