"""Your own model: random PyTorch models exported to ONNX, their data written
with h5py, and nncas's dense Hessian (-hessian_dense_matrix, through the
R-operator on the imported network) against torch.autograd.functional.hessian
of the same mean loss in float64, entry by entry, on 1, 2 and 3 ranks: a chain
with strided and padded convolutions, batch normalization (running and batch
statistics), max and average pooling, tanh and SiLU; a net with residual
additions; MLPs with cross_entropy and with multi_hinge (and dropout)."""
import os
import subprocess

import h5py
import numpy as np
import pytest
import torch
from nncas_onnx import theta_names
from torch import nn

BUILD = os.environ.get("NNCAS_BUILD", "build")
ENV = dict(os.environ, OPENBLAS_NUM_THREADS="1")


class Chain(nn.Module):
    """conv (stride 2, pad 1), BN, tanh, maxpool 3/2/1, conv (3x2 kernel, stride (1, 2), pad (1, 0)), BN, SiLU,
    avgpool 3/1/1 without the padding in the mean, avgpool 2, view, linear: 3 classes."""

    def __init__(self):
        super().__init__()
        self.conv1, self.bn1 = nn.Conv2d(2, 4, 3, stride=2, padding=1), nn.BatchNorm2d(4)
        self.pool1 = nn.MaxPool2d(3, stride=2, padding=1)
        self.conv2, self.bn2 = nn.Conv2d(4, 4, (3, 2), stride=(1, 2), padding=(1, 0)), nn.BatchNorm2d(4)
        self.pool2 = nn.AvgPool2d(3, stride=1, padding=1, count_include_pad=False)
        self.pool3 = nn.AvgPool2d(2)
        self.fc = nn.Linear(8, 3)

    def forward(self, x):
        x = self.pool1(torch.tanh(self.bn1(self.conv1(x))))
        x = self.pool3(self.pool2(nn.functional.silu(self.bn2(self.conv2(x)))))
        return self.fc(x.view(x.size(0), -1))


class Residual(nn.Module):
    """A stem, a basic block with an identity skip, a strided block with a 1x1 downsample, global average pooling."""

    def __init__(self, k=5):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(2, 3, 3, padding=1, bias=False), nn.BatchNorm2d(3), nn.ReLU())
        self.a = nn.Sequential(nn.Conv2d(3, 3, 3, padding=1, bias=False), nn.BatchNorm2d(3), nn.ReLU(),
                               nn.Conv2d(3, 3, 3, padding=1, bias=False), nn.BatchNorm2d(3))
        self.b = nn.Sequential(nn.Conv2d(3, 4, 3, stride=2, padding=1, bias=False), nn.BatchNorm2d(4), nn.ReLU(),
                               nn.Conv2d(4, 4, 3, padding=1, bias=False), nn.BatchNorm2d(4))
        self.down = nn.Sequential(nn.Conv2d(3, 4, 1, stride=2, bias=False), nn.BatchNorm2d(4))
        self.fc = nn.Linear(4, k)

    def forward(self, x):
        x = self.stem(x)
        x = torch.relu(self.a(x) + x)
        x = torch.relu(self.b(x) + self.down(x))
        x = nn.functional.adaptive_avg_pool2d(x, 1)
        return self.fc(torch.flatten(x, 1))


def mlp(k, act, bn=False):
    norm = [nn.BatchNorm1d(8)] if bn else []
    return nn.Sequential(nn.Linear(6, 8), *norm, act(), nn.Dropout(0.3), nn.Linear(8, 8), act(), nn.Linear(8, k))


def export(model, shape, path):
    """ONNX as users write it: eval mode, batch normalization kept (not folded into the convolutions)."""
    model.eval()
    torch.onnx.export(model, torch.zeros((2,) + shape), str(path), opset_version=13, input_names=["x"], output_names=["y"],
                      dynamic_axes={"x": {0: "batch"}, "y": {0: "batch"}}, training=torch.onnx.TrainingMode.PRESERVE,
                      do_constant_folding=False)


def randomize_bn(model, seed):
    """Running statistics and affine parameters away from their defaults, so that every term shows."""
    g = torch.Generator().manual_seed(seed)
    for m in model.modules():
        if isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d)):
            m.running_mean.copy_(0.3 * torch.randn(m.num_features, generator=g))
            m.running_var.copy_(0.5 + torch.rand(m.num_features, generator=g))
            m.weight.data.copy_(1 + 0.3 * torch.randn(m.num_features, generator=g))
            m.bias.data.copy_(0.2 * torch.randn(m.num_features, generator=g))


def torch_hessian(model, names, x, y, loss):
    """d^2/dtheta^2 of the mean loss over all samples (one batch), theta in nncas's order, float64."""
    model = model.double()
    params = dict(model.named_parameters())
    sizes = [params[n].numel() for n in names]
    theta0 = torch.cat([params[n].detach().reshape(-1) for n in names])

    def risk(theta):
        p, off = {}, 0
        for n, s in zip(names, sizes):
            p[n] = theta[off:off + s].reshape(params[n].shape)
            off += s
        out = torch.nn.utils.stateless.functional_call(model, p, (x,))
        return loss(out, y)

    return torch.autograd.functional.hessian(risk, theta0).numpy()


def write_data(path, x, y):
    with h5py.File(path, "w") as f:
        for split in ("train", "val"):
            f[f"{split}/x"], f[f"{split}/y"] = x, y


def nncas_hessian(tmp_path, onnx_path, data, loss, ranks, bn):
    out = tmp_path / f"run_{ranks}_{bn}"
    n = h5py.File(data, "r")["train/y"].shape[0]
    cmd = ["mpiexec", "-q", "-n", str(ranks), "--oversubscribe", os.path.join(BUILD, "nncas"), "-net_file", str(onnx_path),
           "-net_bn_statistics", bn, "-net_loss", loss, "-data_format", "h5", "-data_file", str(data), "-train_epochs", "1",
           "-train_batch", str(n), "-spectrum_every", "1", "-hessian_samples", str(n), "-spectrum_trace_vecs", "0",
           "-spectrum_density", "false", "-spectrum_extremes", "false",
           "-hessian_dense", "-hessian_dense_matrix", "-coupling_every", "0", "-output_dir", str(out)]
    r = subprocess.run(cmd, capture_output=True, text=True, env=ENV)
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
    with h5py.File(out / "results.h5", "r") as f:
        return f["spectrum/epoch_0000/dense/H"][()]


def case_chain(tmp_path):
    torch.manual_seed(1)
    m = Chain()
    randomize_bn(m, 1)
    return m, (2, 16, 16), 3, "cross_entropy", nn.functional.cross_entropy


def case_residual(tmp_path):
    torch.manual_seed(2)
    m = Residual()
    randomize_bn(m, 2)
    return m, (2, 6, 6), 5, "cross_entropy", nn.functional.cross_entropy


def case_mlp_ce(tmp_path):
    torch.manual_seed(3)
    m = mlp(4, nn.Tanh, bn=True)  # batch normalization of flat features too
    randomize_bn(m, 3)
    return m, (6,), 4, "cross_entropy", nn.functional.cross_entropy


def multi_margin(t, y):
    """PyTorch's MultiMarginLoss (p = 1, margin 1), written out: its own backward has no derivative."""
    ty = t.gather(1, y[:, None])
    z = torch.clamp(1 - ty + t, min=0).scatter(1, y[:, None], 0)
    return z.sum(1).mean() / t.shape[1]


def case_mlp_hinge(tmp_path):
    torch.manual_seed(4)
    return mlp(4, nn.Sigmoid), (6,), 4, "multi_hinge", multi_margin


CASES = {"chain": case_chain, "residual": case_residual, "mlp_cross_entropy": case_mlp_ce, "mlp_multi_hinge": case_mlp_hinge}


@pytest.mark.parametrize("name", sorted(CASES))
def test_imported_hessian_matches_pytorch(tmp_path, name):
    model, shape, k, loss, torch_loss = CASES[name](tmp_path)
    onnx_path = tmp_path / f"{name}.onnx"
    export(model, shape, onnx_path)
    g = torch.Generator().manual_seed(7)
    n = 12
    x = torch.randn((n,) + shape, generator=g, dtype=torch.float64)
    y = torch.arange(n) % k
    data = tmp_path / "data.h5"
    write_data(data, x.numpy(), y.numpy().astype(np.int64))
    names = theta_names(onnx_path)
    has_bn = any(isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d)) for m in model.modules())
    for bn in ("running", "batch") if has_bn else ("running",):
        model.eval()  # dropout off, as nncas's Hessian has it
        for m in model.modules():  # batch statistics: BN layers in training mode
            if isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d)):
                m.train(bn == "batch")
        if torch_loss is multi_margin:  # the written-out loss is PyTorch's
            out = model.double()(x)
            assert abs(float(multi_margin(out, y) - nn.functional.multi_margin_loss(out, y))) < 1e-15
        Ht = torch_hessian(model, names, x, y, torch_loss)
        scale = np.abs(Ht).max()
        assert scale > 0
        for ranks in (1, 2, 3):
            H = nncas_hessian(tmp_path, onnx_path, data, loss, ranks, bn)
            assert H.shape == Ht.shape, (H.shape, Ht.shape)
            err = np.abs(H - Ht).max() / scale
            assert err < 1e-10, f"{name} ({bn} statistics, {ranks} ranks): max |H - H_torch| / max |H_torch| = {err:.2e}"


def test_unsupported_operator_is_refused_naming_the_node(tmp_path):
    model = nn.Sequential(nn.Linear(6, 4), nn.Softmax(dim=1))
    onnx_path = tmp_path / "softmax.onnx"
    export(model, (6,), onnx_path)
    data = tmp_path / "data.h5"
    write_data(data, np.zeros((4, 6)), np.arange(4) % 4)
    out = tmp_path / "run"
    cmd = [os.path.join(BUILD, "nncas"), "-net_file", str(onnx_path), "-net_loss", "cross_entropy", "-data_format", "h5",
           "-data_file", str(data), "-output_dir", str(out)]
    r = subprocess.run(cmd, capture_output=True, text=True, env=ENV, timeout=60)
    assert r.returncode == 1
    assert "Softmax" in r.stderr and "softmax.onnx" in r.stderr, r.stderr
    assert not out.exists()
