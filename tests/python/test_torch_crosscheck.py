"""nncas against PyTorch: a checkpoint loads into torch (postprocess/nncas_torch.py)
and torch, in float64, gives the same outputs and the same gradient of the
mean loss as nncas, for networks with every layer type, the batch split over
two ranks (batch-statistics normalization shared across them)."""
import os
import subprocess

import h5py
import numpy as np
import pytest
import torch

import nncas_torch

BUILD = os.environ.get("NNCAS_BUILD", "build")
LOSSES = {
    "hinge": lambda t, y: torch.clamp(1 - y * t, min=0),
    "absolute": lambda t, y: torch.abs(t - y),
    "logistic": lambda t, y: torch.nn.functional.softplus(-y * t),
    "squared": lambda t, y: 0.5 * (t - y) ** 2,
}
CASES = [
    ("conv:4:3:1,bn,relu,pool:2,conv:6:3,swish,pool:2,dense:10,bn,tanh,dense:1", "logistic", "true"),
    ("conv:3:5,sigmoid,pool:2,dropout:0.5,dense:7,relu,dense:1", "squared", "false"),
    ("dense:9,bn,relu,dense:5,tanh,dense:1", "hinge", "true"),
    ("conv:5:3:1,relu,conv:5:3:1,bn,relu,pool:3,dense:1", "absolute", "true"),
]


def run_nncas(tmp_path, spec, loss, bias, ranks=2):
    out = tmp_path / "run"
    dump = tmp_path / "dump.h5"
    cmd = ["mpiexec", "-q", "-n", str(ranks), "--oversubscribe", os.path.join(BUILD, "tests", "torch_dump"),
           "-data_format", "mixture", "-synth_train", "64", "-synth_val", "64", "-synth_shape", "2,9,9",
           "-net_layers", spec, "-net_loss", loss, "-net_bias", bias, "-net_init", "scaled", "-net_init_c", "2",
           "-output_dir", str(out), "-dump_file", str(dump), "-dump_batch", "13"]
    subprocess.run(cmd, check=True)
    return out / "checkpoint.h5", dump


@pytest.mark.parametrize("spec,loss,bias", CASES)
def test_outputs_and_gradient_match_pytorch(tmp_path, spec, loss, bias):
    ckpt, dump = run_nncas(tmp_path, spec, loss, bias)
    model, info = nncas_torch.load(str(ckpt))
    model.eval()  # dropout off; BN without running statistics uses the batch's statistics anyway
    with h5py.File(dump, "r") as f:
        x, y, out, grad = (torch.from_numpy(np.array(f[k])) for k in ("x", "y", "out", "grad"))
    t = model(x).reshape(-1)
    risk = LOSSES[loss](t, y).mean()
    risk.backward()
    g = torch.cat([p.grad.reshape(-1) for p in model.parameters()])  # nncas's theta order: weight, bias per layer
    assert info["net_parameters"] == g.numel()
    np.testing.assert_allclose(t.detach().numpy(), out.numpy(), rtol=1e-12, atol=1e-12)
    err = float((g - grad).abs().max() / grad.abs().max())
    assert err < 1e-11, f"gradient differs from PyTorch's by {err:.2e} (relative to its largest entry)"
