"""Provenance of the Hessians (docs/files.md): the results file records the
samples each Hessian was taken on and the weights of each spectrum, so that
postprocess/recompute_spectrum.py rebuilds the spectrum from the file and the
data alone; the recorded samples are nncas's draw, whatever the rank count."""
import os
import subprocess
import sys
import zlib

import h5py
import numpy as np
import pytest

import h5flat
import nncas_rng

BUILD = os.environ.get("NNCAS_BUILD", "build")
POSTPROCESS = os.path.join(os.path.dirname(__file__), "..", "..", "postprocess")
SMALL = ["-data_train_size", "400", "-data_val_size", "50", "-net_layers", "conv:2:5,relu,pool:4,dense:4,relu,dense:1",
         "-train_batch", "110"]


def nncas(out, ranks, *args):
    cmd = ["mpiexec", "-q", "-n", str(ranks), "--oversubscribe", os.path.join(BUILD, "nncas"), *SMALL, "-output_dir", str(out), *args]
    subprocess.run(cmd, check=True, capture_output=True)
    return out / "results.h5"


def recompute(results):
    cmd = [sys.executable, os.path.join(POSTPROCESS, "recompute_spectrum.py"), str(results), "default"]
    return subprocess.run(cmd, capture_output=True, text=True)


def test_spectrum_recomputed_from_results_file_and_data_equals_stored(tmp_path):
    # batch-statistics normalisation, three fixed batches (the last short) on two ranks, trained weights at epoch 1
    res = nncas(tmp_path / "run", 2, "-net_layers", "conv:2:5,bn,relu,pool:4,dense:4,relu,dense:1", "-net_loss", "logistic",
                "-train_epochs", "1", "-spectrum_every", "1", "-hessian_samples", "50", "-hessian_batch", "20",
                "-spectrum_m0", "20", "-spectrum_m", "20", "-spectrum_nvec", "2", "-spectrum_k", "256")
    r = recompute(res)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "epoch 0:" in r.stdout and "epoch 1:" in r.stdout and "within 1e-08" in r.stdout

    # the same file with one recorded sample replaced (CRC-32 kept valid): the recomputation must disagree
    bad = tmp_path / "tampered.h5"
    h5flat.flatten(str(res), str(bad))  # self-contained: the run's own files stay as they are
    with h5py.File(bad, "r+") as f:
        d = f["spectrum/epoch_0001/hessian_source_index"]
        v = d[()]
        v[0] = next(s for s in range(1000) if s not in v)
        d[...] = v
        d.attrs["crc32"] = zlib.crc32(v.tobytes())
    r = recompute(bad)
    assert r.returncode == 1 and "BEYOND" in r.stdout, r.stdout + r.stderr


def samples_run(tmp_path, ranks, hessian_seed=1):
    out = tmp_path / f"run{ranks}_{hessian_seed}"
    res = nncas(out, ranks, "-train_epochs", "0", "-spectrum_every", "1", "-hessian_samples", "30", "-hessian_batch", "20",
                "-hessian_seed", str(hessian_seed), "-spectrum_m0", "4", "-spectrum_m", "4", "-spectrum_extremes", "false",
                "-spectrum_k", "16", "-coupling_every", "1", "-coupling_seed", "5", "-coupling_nb", "4", "-coupling_nb_high", "2",
                "-coupling_draws", "1", "-coupling_calibrate", "false", "-coupling_submatrix", "4", "-initscale",
                "-initscale_inits", "1", "-initscale_spectra", "false")
    with h5py.File(res, "r") as f, h5py.File(out / "checkpoint.h5", "r") as c:
        source = c["data/train_source_index"][()]
        rec = {k: f[k][()] for k in ("spectrum/epoch_0000/hessian_sample_index", "spectrum/epoch_0000/hessian_source_index",
                                     "coupling/epoch_0000/batch_sample_index", "coupling/epoch_0000/batch_source_index",
                                     "initscale/hessian_sample_index", "initscale/hessian_source_index")}
        assert f["spectrum/epoch_0000"].attrs["hessian_batch"] == 20 and f["coupling/epoch_0000"].attrs["hessian_batch"] == 110
        for g in ("spectrum/epoch_0000", "coupling/epoch_0000", "initscale"):
            assert f[g].attrs["hessian_precision"] == "double"
    return rec, source


def draw(seed, n, m):
    return nncas_rng.permutation(nncas_rng.key(seed, nncas_rng.STREAM_HESSIAN, 0), n)[:m]


@pytest.mark.parametrize("ranks", [1, 2, 3])
def test_recorded_samples_are_the_draw_of_the_hessian_seed_on_any_rank_count(tmp_path, ranks):
    rec, source = samples_run(tmp_path, ranks)
    ids = rec["spectrum/epoch_0000/hessian_sample_index"]
    np.testing.assert_array_equal(ids, draw(1, 400, 30))
    np.testing.assert_array_equal(rec["spectrum/epoch_0000/hessian_source_index"], source[ids])
    # coupling: the whole training split in batches of -train_batch, drawn by -coupling_seed, the last row padded
    batches = rec["coupling/epoch_0000/batch_sample_index"]
    flat = np.concatenate([draw(5, 400, 400), -np.ones(40, np.int64)]).reshape(4, 110)
    np.testing.assert_array_equal(batches, flat)
    np.testing.assert_array_equal(rec["coupling/epoch_0000/batch_source_index"], np.where(flat >= 0, source[flat], -1))
    np.testing.assert_array_equal(rec["initscale/hessian_sample_index"], ids)  # the same -hessian_* options as the spectrum


def test_another_hessian_seed_records_other_samples(tmp_path):
    one, _ = samples_run(tmp_path, 2, 1)
    two, _ = samples_run(tmp_path, 2, 2)
    a, b = one["spectrum/epoch_0000/hessian_sample_index"], two["spectrum/epoch_0000/hessian_sample_index"]
    np.testing.assert_array_equal(b, draw(2, 400, 30))
    assert not np.array_equal(a, b)


@pytest.mark.parametrize("ranks", [1, 2, 3])
def test_single_precision_spectrum_is_recorded_as_such_and_close_to_double(tmp_path, ranks):
    # -hessian_precision configures the spectrum stage's Hessian; its extremes stay within 1e-5 of double's
    args = ["-train_epochs", "0", "-spectrum_every", "1", "-hessian_samples", "30", "-spectrum_m", "16", "-spectrum_k", "64"]
    lam = {}
    for precision in ("double", "single"):
        res = nncas(tmp_path / precision, ranks, *args, "-hessian_precision", precision)
        with h5py.File(res, "r") as f:
            g = f["spectrum/epoch_0000"]
            assert g.attrs["hessian_precision"] == precision
            lam[precision] = np.array([g["extremes/lambda_max"][0], g["extremes/lambda_min"][0]])
    radius = np.abs(lam["double"]).max()
    assert np.abs(lam["single"] - lam["double"]).max() <= 1e-5 * radius, lam
