#!/usr/bin/python3
"""PyHessian's spectrum on the Hessian an nncas run measured: the same
network, weights and samples, timed stage by stage (bench/pyhessian.sh).

    pyhessian_ref.py RESULTS.h5 --pyhessian DIR [--dtype float32] [--threads 2]
                     [--iter 128] [--trace-vecs 100] [--epoch 0]

DIR is a checkout of github.com/amirgholami/PyHessian (fetched, not part of
nncas): its pyhessian.hessian runs on CPU (cuda=False). The network and
weights come from the spectrum's recorded weights, the samples from
hessian_source_index and the run's data directory (as
postprocess/recompute_spectrum.py reads them). PyHessian's three stages, as
its README runs them:
  - eigenvalues(top_n=1): power iteration to its relative tolerance 1e-3 (at
    most 100 products), the largest-magnitude eigenvalue;
  - trace(maxIter=N_TRACE, tol=0): Hutchinson with Rademacher vectors, all
    N_TRACE of them (tol 0: no early stop, the same count as nncas);
  - density(iter=M, n_v=1): stochastic Lanczos quadrature with full
    reorthogonalisation.
Prints one line per stage (seconds, products, result) and a last line
"pyhessian total S s" for the script to read.
"""
import argparse
import os
import sys
import time


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("results")
    ap.add_argument("--pyhessian", required=True, help="a PyHessian checkout (its pyhessian/ package)")
    ap.add_argument("--dtype", default="float32", choices=["float32", "float64"])
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--iter", type=int, default=128)
    ap.add_argument("--trace-vecs", type=int, default=100)
    ap.add_argument("--epoch", type=int, default=0)
    a = ap.parse_args()
    # Debian's torch calls the system OpenBLAS: its thread count is fixed before the library loads
    os.environ["OPENBLAS_NUM_THREADS"] = os.environ["OMP_NUM_THREADS"] = str(a.threads)
    import h5py
    import numpy as np
    import torch
    here = os.path.dirname(os.path.abspath(__file__))
    sys.path.insert(0, os.path.join(here, "..", "postprocess"))
    sys.path.insert(0, a.pyhessian)
    import nncas_torch
    import recompute_spectrum as rs
    import importlib
    ph = importlib.import_module("pyhessian.hessian")  # the module (the package exports its class under the same name)

    torch.set_num_threads(a.threads)
    dtype = getattr(torch, a.dtype)
    torch.set_default_dtype(dtype)  # PyHessian draws its vectors with torch.randn in the default type
    products = [0]

    def counted_hvp(gradsH, params, v):
        """PyHessian's product (pyhessian/utils.py), counted, with one fix: under the hinge loss the last
        bias's gradient does not depend on the parameters (no grad_fn), which torch.autograd.grad refuses;
        it adds nothing to H v, so it is left out of the outputs."""
        products[0] += 1
        keep = [k for k, g in enumerate(gradsH) if torch.is_tensor(g) and g.requires_grad]
        hv = torch.autograd.grad([gradsH[k] for k in keep], params, grad_outputs=[v[k] for k in keep], only_inputs=True,
                                 retain_graph=True, allow_unused=True)
        return [h if h is not None else torch.zeros_like(p) for h, p in zip(hv, params)]

    ph.hessian_vector_product = counted_hvp
    with h5py.File(a.results, "r") as f:
        g = f"spectrum/epoch_{a.epoch:04d}"
        if "weights" not in f[g]:
            sys.exit(f"pyhessian_ref: {g} holds no weights (run nncas with -spectrum_save_weights)")
        model, info = nncas_torch.load(a.results, group=g + "/weights")
        x, y = rs.samples(f, g, nncas_torch._attr(f, "data_dir"))
        ref = {k: float(f[g]["extremes"][k][0]) for k in ("lambda_max", "lambda_min")}
        ref_trace = float(f[g]["statistics"].attrs.get("trace", np.nan))
        batch = int(f[g].attrs["hessian_batch"])
    if batch != len(y):
        sys.exit(f"pyhessian_ref: the Hessian's samples are in batches of {batch}; PyHessian takes one batch of all {len(y)}")
    model = model.to(dtype).eval()
    x, y = x.to(dtype), y.to(dtype)
    loss = rs.LOSSES[info["net_loss"]]

    def criterion(out, target):
        return loss(out.reshape(-1), target).mean()

    t0 = time.perf_counter()
    hc = ph.hessian(model, criterion, data=(x, y), cuda=False)
    t_setup = time.perf_counter() - t0
    total = t_setup
    print(f"pyhessian setup (gradient graph)  {t_setup:8.2f} s  {a.dtype}, {a.threads} threads, {len(y)} samples, "
          f"N = {sum(p.numel() for p in model.parameters())}")

    torch.manual_seed(1)
    t0 = time.perf_counter()
    top, _ = hc.eigenvalues(maxIter=100, tol=1e-3, top_n=1)
    dt = time.perf_counter() - t0
    total += dt
    n0 = products[0]
    print(f"pyhessian eigenvalues (power)     {dt:8.2f} s  {n0:4d} products  top eigenvalue {top[0]:.6e} (nncas lambda_max {ref['lambda_max']:.6e}, "
          f"lambda_min {ref['lambda_min']:.6e})")

    t0 = time.perf_counter()
    tr = hc.trace(maxIter=a.trace_vecs, tol=0.0)
    dt = time.perf_counter() - t0
    total += dt
    n1 = products[0]
    print(f"pyhessian trace ({len(tr)} vectors)       {dt:8.2f} s  {n1 - n0:4d} products  trace {np.mean(tr):.6e} (nncas {ref_trace:.6e})")

    t0 = time.perf_counter()
    eig, w = hc.density(iter=a.iter, n_v=1)
    dt = time.perf_counter() - t0
    total += dt
    print(f"pyhessian density ({a.iter} steps)     {dt:8.2f} s  {products[0] - n1:4d} products  Ritz values in [{min(eig[0]):.6e}, {max(eig[0]):.6e}]")
    print(f"pyhessian total {total:.2f} s, {products[0]} products")


if __name__ == "__main__":
    main()
