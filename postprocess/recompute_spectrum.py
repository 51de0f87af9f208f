#!/usr/bin/python3
"""Recompute a stored Hessian spectrum from the results file and the data alone.

    recompute_spectrum.py RESULTS.h5 DATA_DIR|default [--epoch E] [--rtol 1e-8]

For each spectrum epoch (or E), from what nncas recorded beside it
(docs/files.md): the weights (/spectrum/epoch_EEEE/weights, -spectrum_save_weights)
load into PyTorch (nncas_torch), the samples (hessian_source_index: images of
the training file under DATA_DIR; "default" is the run's -data_dir, the
root attribute data_dir) are standardised as nncas does (root attributes
data_channel_mean/std), and H = d^2 R / dtheta^2 of
    R = (1/m) sum_b sum_{i in b} l(T(x_i; theta, batch b), y_i)
(docs/hessian.md: fixed batches of hessian_batch in the recorded order,
batch-statistics normalisation per batch) is applied in float64 by PyTorch's
double backward. Then:
  - extremes: lambda_max, lambda_min of the dense H (N <= 4000) or scipy's eigsh;
  - density: nncas's Lanczos (full reorthogonalisation, classical Gram-Schmidt
    twice) from nncas's own starting vectors (nncas_rng: the normalisation
    vector, then density vector k), its Ritz values and weights, [lo, hi] and
    the Gaussian smoothing on the stored grid.
Prints the largest differences, relative to ||H||_2 (eigenvalues) or to the
largest density value, and exits 1 if one exceeds --rtol (weights: absolute).
"""
import argparse
import gzip
import os
import sys
import zlib

import h5py
import numpy as np
import scipy.linalg
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import nncas_rng  # noqa: E402
import nncas_torch  # noqa: E402

LOSSES = {  # src/net/loss.c
    "hinge": lambda t, y: torch.clamp(1 - y * t, min=0),
    "absolute": lambda t, y: torch.abs(t - y),
    "logistic": lambda t, y: torch.nn.functional.softplus(-y * t),
    "squared": lambda t, y: 0.5 * (t - y) ** 2,
}


def dataset(f, path):
    """A dataset's values, checked against its crc32 attribute (the io layer's CRC-32 of the native bytes)."""
    v = f[path][()]
    crc = f[path].attrs.get("crc32")
    if crc is not None and zlib.crc32(np.ascontiguousarray(v).tobytes()) != int(crc):
        sys.exit(f"recompute_spectrum: {path}: CRC-32 mismatch (the file is damaged)")
    return v


def options(f):
    """The run's PETSc options (root attribute options) as {name: value or ""}."""
    toks, out = nncas_torch._attr(f, "options").split(), {}
    for a, b in zip(toks, toks[1:] + [""]):
        if a.startswith("-") and not a[1:2].isdigit():
            out[a] = "" if b.startswith("-") and not b[1:2].isdigit() else b
    return out


def read_source(fmt, data_dir):
    """(pixels (n, c, h, w) uint8, classes (n)) of the training file(s) as nncas reads them (src/data/images.c)."""
    if fmt == "idx":
        def raw(base):
            p = os.path.join(data_dir, base)
            return gzip.open(p + ".gz").read() if os.path.exists(p + ".gz") else open(p, "rb").read()
        img, lab = raw("train-images-idx3-ubyte"), raw("train-labels-idx1-ubyte")
        n, h, w = (int.from_bytes(img[4 * k:4 * k + 4], "big") for k in (1, 2, 3))
        return np.frombuffer(img, np.uint8, n * h * w, 16).reshape(n, 1, h, w), np.frombuffer(lab, np.uint8, n, 8)
    if fmt == "cifar10":
        sub = os.path.join(data_dir, "cifar-10-batches-bin")
        d = data_dir if os.path.exists(os.path.join(data_dir, "data_batch_1.bin")) else sub
        rec = np.concatenate([np.fromfile(os.path.join(d, f"data_batch_{k}.bin"), np.uint8).reshape(-1, 3073) for k in range(1, 6)])
        return rec[:, 1:].reshape(-1, 3, 32, 32), rec[:, 0]
    sys.exit(f"recompute_spectrum: -data_format {fmt}: only image data (idx, cifar10) can be read from outside nncas")


def samples(f, g, data_dir):
    """x (m, c, h, w) float64 and y (m) +-1 of the recorded samples, in batch order."""
    opt, fmt = options(f), nncas_torch._attr(f, "data_format")
    src = dataset(f, g + "/hessian_source_index")
    pixels, classes = read_source(fmt, data_dir)
    positive = int(opt.get("-data_positive_class", 0))
    normalize = opt.get("-data_normalize", "true") in ("", "true", "1", "yes")
    mean, std = (np.asarray(f.attrs[k], dtype=np.float64) for k in ("data_channel_mean", "data_channel_std"))
    x = pixels[src].astype(np.float64)
    x = (x - mean[None, :, None, None]) / std[None, :, None, None] if normalize else x / 255.0
    return torch.from_numpy(x), torch.from_numpy(np.where(classes[src] == positive, 1.0, -1.0))


class HessianOperator:
    """v -> H v in float64 by double backward; the gradient is built once."""

    def __init__(self, model, loss, x, y, batch):
        self.params = list(model.parameters())
        m, risk = len(y), 0.0
        for b0 in range(0, m, batch):  # each fixed batch through the net alone: its own BN statistics
            t = model(x[b0:b0 + batch]).reshape(-1)
            risk = risk + LOSSES[loss](t, y[b0:b0 + batch]).sum()
        grads = torch.autograd.grad(risk / m, self.params, create_graph=True)
        self.grad = torch.cat([g.reshape(-1) for g in grads])
        self.N = self.grad.numel()

    def __call__(self, v):
        hv = torch.autograd.grad(self.grad, self.params, grad_outputs=torch.from_numpy(np.ascontiguousarray(v)), retain_graph=True,
                                 allow_unused=True)  # a gradient may not depend on some parameters (hinge: the last bias)
        return torch.cat([(h if h is not None else torch.zeros_like(p)).reshape(-1) for h, p in zip(hv, self.params)]).numpy()


def lanczos(H, v0, M):
    """src/spectrum/lanczos.c: Ritz values (ascending) and weights of M steps from v0."""
    V, alpha, beta, scale = np.zeros((M + 1, len(v0))), [], [], 0.0
    V[0] = v0
    for j in range(M):
        w = H(V[j])
        h = V[:j + 1] @ w
        w -= V[:j + 1].T @ h
        h2 = V[:j + 1] @ w  # classical Gram-Schmidt, twice
        w -= V[:j + 1].T @ h2
        alpha.append(h[j] + h2[j])
        norm = np.linalg.norm(w)
        scale = max(scale, abs(alpha[j]), beta[j - 1] if j else 0.0)
        if j + 1 == M or norm <= 1e-12 * scale:
            break
        beta.append(norm)
        V[j + 1] = w / norm
    theta, X = scipy.linalg.eigh_tridiagonal(np.array(alpha), np.array(beta[:len(alpha) - 1]))
    return theta, X[0] ** 2


def unit_normal(seed, substream, N):
    z = nncas_rng.normal(nncas_rng.key(seed, nncas_rng.STREAM_SPECTRUM, substream), np.arange(N))
    return z / np.linalg.norm(z)


def extremes(H):
    if H.N <= 4000:
        w = np.linalg.eigvalsh(np.array([H(e) for e in np.eye(H.N)]))
        return w[-1], w[0]
    import scipy.sparse.linalg as sla
    op = sla.LinearOperator((H.N, H.N), matvec=H, dtype=np.float64)
    return (sla.eigsh(op, 1, which=w, tol=1e-13, return_eigenvectors=False)[0] for w in ("LA", "SA"))


def density(f, g, H, seed):
    """Differences of the density group recomputed (docs/spectrum.md), scaled."""
    a = f[g + "/density"].attrs
    M0, M, nvec, width, kappa = int(a["M0"]), int(a["M"]), int(a["n_vec"]), float(a["kernel_width_parameter"]), float(a["margin_kappa"])
    runs = [lanczos(H, unit_normal(seed, 1 + k, H.N), M) for k in range(nvec)]
    # Papyan's interval from the extreme Ritz values of the separate M0-step run
    # (M0 > 0) or, without it (M0 = 0, nncas's default), of density vector 0's run
    r0 = lanczos(H, unit_normal(seed, 0, H.N), M0)[0] if M0 > 0 else runs[0][0]
    D = r0[-1] - r0[0]
    lo, hi = r0[0] - kappa * D, r0[-1] + kappa * D
    ritz, wts = dataset(f, g + "/density/ritz_values"), dataset(f, g + "/density/ritz_weights")
    steps, grid = dataset(f, g + "/density/steps"), dataset(f, g + "/density/grid")
    c, d, sigma = 0.5 * (hi + lo), 0.5 * (hi - lo), 2.0 / (M - 1) / np.sqrt(8 * np.log(width))
    rho, dr, dw = np.zeros((nvec, len(grid))), 0.0, 0.0
    for k in range(nvec):
        r, w = runs[k]
        if len(r) != steps[k]:
            sys.exit(f"recompute_spectrum: {g}: starting vector {k} took {len(r)} Lanczos steps, nncas {steps[k]}")
        dr, dw = max(dr, np.abs(r - ritz[k, :len(r)]).max()), max(dw, np.abs(w - wts[k, :len(r)]).max())
        t = (grid - c) / d
        z = (t[:, None] - (r[None, :] - c) / d) / sigma
        rho[k] = (w[None, :] * np.exp(-0.5 * z * z)).sum(1) / (np.sqrt(2 * np.pi) * sigma) / d
    stored = dataset(f, g + "/density/density")
    return {"lo, hi": max(abs(lo - a["lo"]), abs(hi - a["hi"])), "Ritz values": dr,
            "Ritz weights (absolute)": dw, "density": np.abs(rho.mean(0) - stored).max() / np.abs(stored).max()}


def recompute(f, epoch, data_dir):
    g = f"spectrum/epoch_{epoch:04d}"
    if "weights" not in f[g]:
        sys.exit(f"recompute_spectrum: {g} holds no weights (run nncas with -spectrum_save_weights)")
    model, info = nncas_torch.load(f.filename, group=g + "/weights")
    x, y = samples(f, g, data_dir)
    H = HessianOperator(model, info["net_loss"], x, y, int(f[g].attrs["hessian_batch"]))
    diff, norm2 = {}, float(f[g + "/statistics"].attrs["norm2"])
    if "extremes" in f[g]:
        lmax, lmin = extremes(H)
        diff["lambda_max"] = abs(lmax - dataset(f, g + "/extremes/lambda_max")[0])
        diff["lambda_min"] = abs(lmin - dataset(f, g + "/extremes/lambda_min")[0])
    if "density" in f[g]:
        seed = int(f[g + "/density"].attrs.get("seed", options(f).get("-spectrum_seed", 1)))
        diff.update(density(f, g, H, seed))
    return {k: v if k in ("density", "Ritz weights (absolute)") else v / norm2 for k, v in diff.items()}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("results")
    ap.add_argument("data_dir", help='the directory of the data files, or "default": the run\'s -data_dir')
    ap.add_argument("--epoch", type=int, help="only this spectrum epoch (default: every one)")
    ap.add_argument("--rtol", type=float, default=1e-8, help="largest accepted difference (default 1e-8)")
    a = ap.parse_args(argv)
    torch.set_num_threads(1)
    worst = 0.0
    with h5py.File(a.results, "r") as f:
        data_dir = nncas_torch._attr(f, "data_dir") if a.data_dir == "default" else a.data_dir
        epochs = [a.epoch] if a.epoch is not None else sorted(int(k[6:]) for k in f["spectrum"])
        for e in epochs:
            diff = recompute(f, e, data_dir)
            print(f"epoch {e}: " + ", ".join(f"{k} {v:.2e}" for k, v in diff.items()))
            worst = max([worst] + list(diff.values()))
    print(f"largest difference {worst:.2e} ({'within' if worst <= a.rtol else 'BEYOND'} {a.rtol:g}; eigenvalues relative to ||H||_2)")
    return 0 if worst <= a.rtol else 1


if __name__ == "__main__":
    sys.exit(main())
