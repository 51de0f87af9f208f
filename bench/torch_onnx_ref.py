#!/usr/bin/python3
"""The PyTorch side of bench/onnx_hvp.sh: builds a model, exports it to ONNX
as a user would (README, "Analyse your own model"), writes its data to HDF5,
and times PyTorch's Hessian-vector product by double backward; also checks
nncas's product against PyTorch's in float64.

    torch_onnx_ref.py export  --net resnet18 --dir D      # D/resnet18.onnx, D/resnet18.h5, D/resnet18_v.bin
    torch_onnx_ref.py time    --net resnet18 --dir D --dtype float32 --threads 1 --reps 3
    torch_onnx_ref.py check   --net resnet18 --dir D --hv D/resnet18_hv.bin

Models: resnet18 (torchvision, random weights, 10 classes, 3x32x32 inputs,
cross-entropy; batch normalization's affine parameters and running
statistics drawn at random so that no two initializers are equal and
torch.onnx.export shares none), and nncas's presets lenet and mlp as the same
torch.nn.Sequential as postprocess/nncas_torch.py builds (1x28x28 inputs, one
output, hinge loss max(0, 1 - y t)). The models run in eval mode: the
running statistics, as nncas's default for a model file.

"time" prints PyTorch's products: "HVP" builds the gradient graph for every
product (torch.autograd.grad of g . v with create_graph), the counterpart of
nncas's fresh product; "HVP kept" builds it once (retain_graph, as
PyHessian), the counterpart of nncas's products that reuse the forward pass.
--clock cpu times with the process's CPU clock (a machine shared with other
work), as nncas_bench_hvp -bench_clock cpu.

The direction v is written in nncas's theta order: the parameters of the
ONNX nodes, node after node (weight, then bias; gamma, then beta), as
nncas's importer reads them (docs/import.md).
"""
import argparse
import os
import resource
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "postprocess"))
from nncas_onnx import theta_names  # noqa: E402  (postprocess/, nncas's theta order)

PRESETS = {  # src/net/net_spec.c
    "lenet": "conv:32:5,relu,pool:2,conv:64:5,relu,pool:2,dense:512,relu,dense:1",
    "mlp": "dense:512,relu,dense:512,relu,dense:1",
}
SAMPLES = {"resnet18": 64, "lenet": 200, "mlp": 200}


def model_of(net):
    """(model, input shape, number of classes or 0 for one output with labels +-1), float64, eval mode."""
    import torch
    torch.manual_seed(0)
    if net == "resnet18":
        import torchvision
        m = torchvision.models.resnet18(num_classes=10)
        g = torch.Generator().manual_seed(1)
        for b in m.modules():
            if isinstance(b, torch.nn.BatchNorm2d):
                b.weight.data.copy_(1 + 0.2 * torch.randn(b.num_features, generator=g))
                b.bias.data.copy_(0.1 * torch.randn(b.num_features, generator=g))
                b.running_mean.copy_(0.1 * torch.randn(b.num_features, generator=g))
                b.running_var.copy_(1 + 0.2 * torch.rand(b.num_features, generator=g))
        return m.double().eval(), (3, 32, 32), 10
    import nncas_torch
    return nncas_torch.build(PRESETS[net], 1, 28, 28).double().eval(), (1, 28, 28), 0


def risk_of(model, x, y, classes):
    """The mean loss: cross-entropy, or the hinge loss max(0, 1 - y t) of nncas's default."""
    import torch
    t = model(x)
    if classes:
        return torch.nn.functional.cross_entropy(t, y)
    return torch.clamp(1 - y * t.reshape(-1), min=0).mean()


def paths(a):
    p = os.path.join(a.dir, a.net)
    return p + ".onnx", p + ".h5", p + "_v.bin"


def data_of(a, dtype, classes):
    """The samples, labels and direction written by "export", in dtype."""
    import h5py
    import numpy as np
    import torch
    onnx_path, h5_path, v_path = paths(a)
    with h5py.File(h5_path, "r") as f:
        x, y = np.array(f["train/x"]), np.array(f["train/y"])
    x = torch.from_numpy(x).to(dtype)
    y = torch.from_numpy(y)
    if not classes:  # labels +-1 enter the hinge loss as numbers
        y = y.to(dtype)
    v = torch.from_numpy(np.fromfile(v_path, dtype=np.float64)).to(dtype)
    return x, y, v


def export(a):
    import h5py
    import numpy as np
    import torch
    model, shape, classes = model_of(a.net)
    onnx_path, h5_path, v_path = paths(a)
    os.makedirs(a.dir, exist_ok=True)
    torch.onnx.export(model, torch.zeros((2,) + shape, dtype=torch.float64), onnx_path, opset_version=13, input_names=["x"],
                      output_names=["y"], dynamic_axes={"x": {0: "batch"}, "y": {0: "batch"}},
                      training=torch.onnx.TrainingMode.PRESERVE, do_constant_folding=False)
    n = SAMPLES[a.net]
    g = torch.Generator().manual_seed(2)
    x = torch.randn((n,) + shape, generator=g, dtype=torch.float64).numpy()
    y = (np.arange(n) * 7 + 3) % classes if classes else np.where(np.arange(n) % 2 == 0, 1, -1)  # integer labels
    with h5py.File(h5_path, "w") as f:
        for split in ("train", "val"):
            f[f"{split}/x"], f[f"{split}/y"] = x, y.astype(np.int64)
    params = dict(model.named_parameters())
    names = theta_names(onnx_path)
    assert sorted(names) == sorted(params), "the ONNX initializers are not the model's parameters one to one"
    N = sum(params[k].numel() for k in names)
    torch.randn(N, generator=g, dtype=torch.float64).numpy().tofile(v_path)
    print(f"{a.net}: {onnx_path} {h5_path} {v_path} N={N} samples={n}")


def products(a, dtype):
    """(model, params in theta order, risk closure, v split like params) in dtype."""
    import torch
    model, shape, classes = model_of(a.net)
    model = model.to(dtype)
    x, y, v = data_of(a, dtype, classes)
    params = dict(model.named_parameters())
    plist = [params[k] for k in theta_names(paths(a)[0])]
    vs, off = [], 0
    for p in plist:
        vs.append(v[off:off + p.numel()].reshape(p.shape))
        off += p.numel()
    return model, plist, (lambda: risk_of(model, x, y, classes)), vs


def hvp(risk, params, v, keep=None):
    """H v by double backward: d/dtheta (dR/dtheta . v); keep: the gradient graph built once."""
    import torch
    g = keep if keep is not None else torch.autograd.grad(risk(), params, create_graph=True)
    live = [(gi, vi) for gi, vi in zip(g, v) if gi.requires_grad]  # e.g. the output bias under hinge loss: constant
    return torch.autograd.grad([gi for gi, _ in live], params, grad_outputs=[vi for _, vi in live], allow_unused=True,
                               retain_graph=keep is not None)


def best_time(fn, reps, clock):
    fn()
    best = float("inf")
    for _ in range(reps):
        t0 = clock()
        fn()
        best = min(best, clock() - t0)
    return best


def time_products(a):
    import torch
    torch.set_num_threads(a.threads)
    dtype = getattr(torch, a.dtype)
    model, params, risk, v = products(a, dtype)
    clock = time.process_time if a.clock == "cpu" else time.perf_counter
    tg = best_time(lambda: torch.autograd.grad(risk(), params), a.reps, clock)
    th = best_time(lambda: hvp(risk, params, v), a.reps, clock)
    keep = torch.autograd.grad(risk(), params, create_graph=True)
    tk = best_time(lambda: hvp(risk, params, v, keep), a.reps, clock)
    n = sum(p.numel() for p in params)
    print(f"torch {a.net:8s} N={n:<9d} samples={SAMPLES[a.net]} {a.dtype} threads={a.threads}: gradient {1e3 * tg:9.1f} ms  "
          f"HVP {1e3 * th:9.1f} ms  HVP kept {1e3 * tk:9.1f} ms  peak "
          f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB{'  (cpu clock)' if a.clock == 'cpu' else ''}")


def check(a):
    """max |Hv_nncas - Hv_torch| / max |Hv_torch| in float64, and where the largest difference is."""
    import numpy as np
    import torch
    model, params, risk, v = products(a, torch.float64)
    hv = torch.cat([h.reshape(-1) if h is not None else torch.zeros(p.numel(), dtype=torch.float64)
                    for h, p in zip(hvp(risk, params, v), params)]).numpy()
    mine = np.fromfile(a.hv, dtype=np.float64)
    assert mine.shape == hv.shape, f"nncas wrote {mine.size} values, PyTorch's theta has {hv.size}"
    err = np.abs(mine - hv).max() / np.abs(hv).max()
    print(f"check {a.net}: N={hv.size} max|Hv|={np.abs(hv).max():.6e} max|Hv_nncas - Hv_torch|/max|Hv_torch| = {err:.2e} "
          f"({'ok' if err <= a.tol else 'FAILED'}, tolerance {a.tol:g})")
    return err <= a.tol


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("what", choices=["export", "time", "check"])
    ap.add_argument("--net", default="resnet18", choices=["resnet18", "lenet", "mlp"])
    ap.add_argument("--dir", default="runs/onnx_hvp")
    ap.add_argument("--dtype", default="float64", choices=["float64", "float32"])
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--clock", default="wall", choices=["wall", "cpu"])
    ap.add_argument("--hv", help="check: nncas's H v (nncas_bench_hvp -bench_hv)")
    ap.add_argument("--tol", type=float, default=1e-10)
    a = ap.parse_args()
    # Debian's torch calls the system OpenBLAS, whose thread count torch.set_num_threads does not set
    os.environ["OPENBLAS_NUM_THREADS"] = os.environ["OMP_NUM_THREADS"] = str(a.threads)
    if a.what == "export":
        export(a)
    elif a.what == "time":
        time_products(a)
    else:
        sys.exit(0 if check(a) else 1)


if __name__ == "__main__":
    main()
