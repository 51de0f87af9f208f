#!/usr/bin/python3
"""PyTorch reference times of the gradient and the double-backward
Hessian-vector product for nncas's presets, same network, batch and
precision: the baseline of bench/perf.sh. Two HVP times: "HVP" builds the
gradient graph for every product; "HVP kept" builds it once and reuses it
for each product (retain_graph, as PyHessian does), the counterpart of
nncas's products reusing the forward pass at one point.

    bench/torch_ref.py --net lenet --batch 200 --dtype float64 --threads 1
"""
import argparse
import resource
import sys
import time
import os

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "postprocess"))

SPECS = {
    "lenet": ("conv:32:5,relu,pool:2,conv:64:5,relu,pool:2,dense:512,relu,dense:1", (1, 28, 28)),
    "mlp": ("dense:512,relu,dense:512,relu,dense:1", (1, 28, 28)),
    "vgg12": ("conv:64:3:1,bn,relu,conv:64:3:1,bn,relu,pool:2,conv:128:3:1,bn,relu,conv:128:3:1,bn,relu,pool:2,"
              "conv:256:3:1,bn,relu,conv:256:3:1,bn,relu,conv:256:3:1,bn,relu,pool:2,"
              "conv:512:3:1,bn,relu,conv:512:3:1,bn,relu,conv:512:3:1,bn,relu,pool:2,dense:512,bn,relu,dense:1",
              (3, 32, 32)),
}


def best_time(fn, reps):
    fn()
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--net", default="lenet", choices=sorted(SPECS))
    ap.add_argument("--batch", type=int, default=200)
    ap.add_argument("--dtype", default="float64", choices=["float64", "float32"])
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--reps", type=int, default=3)
    a = ap.parse_args()
    # Debian's torch calls the system BLAS (OpenBLAS), whose own thread count
    # torch.set_num_threads does not set: it must be fixed before the library loads
    os.environ["OPENBLAS_NUM_THREADS"] = os.environ["OMP_NUM_THREADS"] = str(a.threads)
    import torch
    import nncas_torch
    torch.set_num_threads(a.threads)
    spec, shape = SPECS[a.net]
    dtype = getattr(torch, a.dtype)
    model = nncas_torch.build(spec, *shape).to(dtype)
    model.eval()  # no dropout; bn without running statistics uses batch statistics
    x = torch.randn(a.batch, *shape, dtype=dtype)
    y = torch.sign(torch.randn(a.batch, dtype=dtype))
    params = list(model.parameters())
    v = [torch.randn_like(p) for p in params]

    def risk():
        return torch.clamp(1 - y * model(x).reshape(-1), min=0).mean()

    def grad():
        return torch.autograd.grad(risk(), params)

    def hvp():
        g = torch.autograd.grad(risk(), params, create_graph=True)
        live = [(gi, vi) for gi, vi in zip(g, v) if gi.requires_grad]  # e.g. the output bias under hinge loss: constant
        return torch.autograd.grad([gi for gi, _ in live], params, grad_outputs=[vi for _, vi in live], allow_unused=True)

    g = torch.autograd.grad(risk(), params, create_graph=True)
    kept = [(gi, vi) for gi, vi in zip(g, v) if gi.requires_grad]

    def hvp_kept():
        return torch.autograd.grad([gi for gi, _ in kept], params, grad_outputs=[vi for _, vi in kept], allow_unused=True,
                                   retain_graph=True)

    tg, th, tk = best_time(grad, a.reps), best_time(hvp, a.reps), best_time(hvp_kept, a.reps)
    n = sum(p.numel() for p in params)
    print(f"torch {a.net:6s} N={n:<9d} batch={a.batch} {a.dtype} threads={a.threads}: gradient {1e3*tg:8.1f} ms  "
          f"HVP {1e3*th:8.1f} ms  HVP kept {1e3*tk:8.1f} ms  peak {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")


if __name__ == "__main__":
    main()
