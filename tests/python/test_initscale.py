"""The initialisation-scaling study (Sec. 5.2, App. F) through the nncas program on
2 ranks: exact scaling exponents on a bias-free ReLU network whose outputs stay
on the hinge's linear side, and the dynamic step training where step 0.1
diverges (detected, reported, exit status 4)."""
import os
import subprocess

import h5py
import numpy as np

BUILD = os.environ.get("NNCAS_BUILD", "build")
DEEP = ",".join(["dense:32,relu"] * 6 + ["dense:1"])


def nncas(*args, check=True):
    cmd = ["mpiexec", "-q", "-n", "2", "--oversubscribe", os.path.join(BUILD, "nncas"), *map(str, args)]
    return subprocess.run(cmd, check=check, capture_output=True, text=True)


def test_exponents_match_homogeneity_on_the_hinge_linear_side(tmp_path):
    out = tmp_path / "study"
    nncas("-data_train_size", 400, "-data_val_size", 100, "-net_layers",
          "dense:16,relu,dense:16,relu,dense:16,relu,dense:1", "-net_bias", "false", "-train_epochs", 0,
          "-initscale", "-initscale_c", "0.05,0.1,0.2", "-initscale_inits", 6, "-hessian_samples", 100,
          "-output_dir", out)
    with h5py.File(out / "results.h5", "r") as f:
        g = f["initscale"]
        L = g.attrs["weight_layers"]
        assert L == 4
        # T is homogeneous of degree 1 in each weight matrix: with every sample on the
        # hinge's linear side, H(c) = c^((L-2)/2) H(1) (Cor. F.1) and ||grad R||^2 ~ c^(L-1)
        np.testing.assert_allclose(g["lambda_max_exponent"][()], (L - 2) / 2, atol=1e-8)
        np.testing.assert_allclose(g["lambda_min_exponent"][()], (L - 2) / 2, atol=1e-8)
        assert abs(g.attrs["grad_norm_sq_exponent"] - (L - 1)) < 1e-8
        gn2 = g["grad_norm_sq"][()]
        np.testing.assert_allclose(gn2[1] / gn2[0], 2.0 ** (L - 1), rtol=1e-10)  # per doubling of c, each init
        assert g["c_00/density/density"].shape == (1024,)


def test_dynamic_step_trains_where_constant_step_diverges(tmp_path):
    common = ["-data_format", "mixture", "-synth_shape", "1,1,32", "-synth_train", 512, "-synth_val", 128,
              "-net_layers", DEEP, "-net_init", "scaled", "-net_init_c", 4, "-train_epochs", 3, "-train_batch", 32,
              "-train_record_steps"]
    bad = nncas(*common, "-train_step", "constant", "-train_lr", 0.1, "-output_dir", tmp_path / "constant", check=False)
    assert bad.returncode == 4, bad.stderr
    assert "training diverged at epoch 1" in bad.stdout
    with h5py.File(tmp_path / "constant" / "results.h5", "r") as f:
        assert f["training"].attrs["diverged"] == 1
        assert f["training/steps/loss"][-1] > 1e6
    nncas(*common, "-train_step", "dynamic", "-train_lr", 0.01, "-output_dir", tmp_path / "dynamic")
    with h5py.File(tmp_path / "dynamic" / "results.h5", "r") as f:
        t = f["training"]
        assert t.attrs["diverged"] == 0 and t.attrs["step_rule"] == "dynamic"
        loss, eta, gn = t["steps/loss"][()], t["steps/step_size"][()], t["steps/grad_norm"][()]
        np.testing.assert_allclose(eta, 0.01 / gn**2, rtol=1e-12)
        assert t["train_loss"][-1] < 0.6 * loss[0]
