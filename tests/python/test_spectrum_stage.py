"""The nncas program with the spectrum stage and the dense verification mode
(2 ranks): the results file holds, per epoch, the SLEPc extremes, the Lanczos
density and statistics, and the dense Hessian with its PDSYEVD eigenvalues,
which numpy reproduces from the stored matrix."""
import os
import subprocess

import h5py
import numpy as np

BUILD = os.environ.get("NNCAS_BUILD", "build")


def test_spectrum_stage_records_consistent_spectra(tmp_path):
    out = tmp_path / "run"
    cmd = ["mpiexec", "-q", "-n", "2", "--oversubscribe", os.path.join(BUILD, "nncas"),
           "-data_train_size", "300", "-data_val_size", "100", "-net_layers", "conv:3:5,relu,pool:4,dense:6,relu,dense:1",
           "-train_epochs", "2", "-train_batch", "50", "-spectrum_every", "1", "-hessian_samples", "60",
           "-spectrum_trace_vecs", "10", "-hessian_dense", "-hessian_dense_matrix", "-output_dir", str(out)]
    subprocess.run(cmd, check=True, capture_output=True)
    with h5py.File(out / "results.h5", "r") as f:
        assert sorted(f["spectrum"].keys()) == ["epoch_0000", "epoch_0001", "epoch_0002"]
        assert f["training/val_acc"].shape == (2,)
        for name, g in f["spectrum"].items():
            H = g["dense/H"][()]
            w = g["dense/eigenvalues"][()]
            scale = np.abs(w).max()
            assert np.abs(H - H.T).max() <= 1e-12 * np.abs(H).max(), name
            np.testing.assert_allclose(np.linalg.eigvalsh(H), w, atol=1e-10 * scale)
            assert abs(g["extremes/lambda_max"][0] - w[-1]) <= 1e-8 * scale, name
            assert abs(g["extremes/lambda_min"][0] - w[0]) <= 1e-8 * scale, name
            grid, rho = g["density/grid"][()], g["density/density"][()]
            assert np.all(np.isfinite(rho)) and abs(np.trapz(rho, grid) - 1) < 1e-3, name
            assert g["density"].attrs["lo"] <= w[0] and g["density"].attrs["hi"] >= w[-1], name
            st = g["statistics"].attrs
            assert abs(st["norm2"] - scale) <= 1e-8 * scale
            assert 0 <= st["negative_mass_fraction"] <= 1
            assert g.attrs["epoch"] == int(name[-4:])
