#!/usr/bin/python3
"""Time to the answer of nncas's stages on P ranks with the best number of
rank groups G (-stage_groups), from per-unit costs measured on one node and
the communication model of docs/scaling.md. Prints the markdown tables of
docs/scaling.md ("Rank groups: time to the answer").

    bench/scaling_model.py [--alpha 2e-6] [--beta 1e-10]

The model, per stage:
  product on p ranks (m samples, N parameters, c seconds per sample on one
  core): c ceil(m / p) + comm(p), comm(p) = 2 (p - 1) alpha + 16 N beta
  (p - 1) / p (the all-gather and reduce-scatter of N doubles, ring), plus
  for a network with L_bn normalization layers and a batch split across
  ranks 5 L_bn log2(p) alpha; a Lanczos step adds its reorthogonalisation,
  two reductions, 2 log2(p) alpha, and 8 j N / p flops at the measured
  vector rate.
  spectrum (App. G.1: M = 128, n_vec, trace vectors T): the normalization
  run (density vector 1, with the extremes) on all P ranks; the other
  n_vec - 1 density vectors and the T trace vectors in rounds of G on
  groups of P / G ranks, the last (fewer than G) on all P.
  coupling draw (n batches, t_b seconds per batch on one core, both N_b):
  ceil(n / p) t_b on p ranks for its entries, then its statistics on all P
  (s_d seconds on one core, divided by P: the correlation matrix's GEMMs
  and counts split by ScaLAPACK's blocks); B draws in rounds of G.
Ranks beyond the samples (or batches) idle: a product needs whole samples,
a draw whole batches.
"""
import argparse
import math

# Per-unit costs measured on the 2-core machine (2 ranks, one OpenBLAS thread each):
#  LeNet: bench/groups.sh -n 2 -v 5 (2026-12-07, G = 1): 100 trace products in 15 s (0.15 s a
#         product on 2 ranks: c = 0.15 * 2 / 200 per sample on one core) and 22 s per 128-step
#         Lanczos vector, whose 2.8 s beyond its products is the reorthogonalisation (VECTOR_RATE);
#  VGG12: one product 12.3 s on 2 ranks (bench/perf.sh vgg12, docs/performance.md); one batch of a
#         coupling draw (N_b = 100 and 10) 74 s on one core (2026-12-07, OpenBLAS's Cooperlake kernels;
#         docs/reproduction.md, "Cost of the full-scale runs"; 318 s on 2026-12-01's Prescott kernels);
#  sd, a draw's statistics (standardising, the N_b^2 x N_b^2 correlations and counts: the same for
#         any network at N_b = 100, n = 157): not measured alone; 20 s on one core assumed.
NETS = {
    "LeNet": dict(N=577_409, m=200, c=0.15 * 2 / 200, Lbn=0, n=157, tb=35.9 * 2 / 157, sd=20.0),
    "VGG12": dict(N=8_684_865, m=200, c=12.3 * 2 / 200, Lbn=12, n=157, tb=74.0, sd=20.0),
}
VECTOR_RATE = 6.7e9  # flops per second per core of the reorthogonalisation (GEMV, memory bound): 2.8 s for 128 LeNet steps
# on 2 ranks with two Gram-Schmidt passes a step (8 j N flops at step j); since 2026-12-07 one pass (4 j N)


def comm(net, p, alpha, beta):
    if p == 1:
        return 0.0
    t = 2 * (p - 1) * alpha + 16 * net["N"] * beta * (p - 1) / p
    if net["Lbn"] and p > 1:
        t += 5 * net["Lbn"] * math.log2(p) * alpha
    return t


def product(net, p, alpha, beta):
    return net["c"] * math.ceil(net["m"] / p) + comm(net, p, alpha, beta)


def lanczos_run(net, p, M, alpha, beta):
    ortho = sum(4 * j * net["N"] / p / VECTOR_RATE + 2 * math.log2(max(p, 2)) * alpha for j in range(1, M + 1))
    return M * product(net, p, alpha, beta) + ortho


def rounds(units, G):
    """(grouped rounds, units left for all ranks)"""
    return (units // G, units % G) if G > 1 else (0, units)


def spectrum(net, P, G, nvec, T, alpha, beta, M=128):
    t = lanczos_run(net, P, M, alpha, beta)  # normalization = density vector 1, the extremes
    r, left = rounds(nvec - 1, G)
    t += r * lanczos_run(net, P // G, M, alpha, beta) + left * lanczos_run(net, P, M, alpha, beta)  # a round waits for its smallest group
    r, left = rounds(T, G)
    t += r * product(net, P // G, alpha, beta) + left * product(net, P, alpha, beta)
    return t


def coupling(net, P, G, B):
    entries = lambda p: math.ceil(net["n"] / p) * net["tb"]  # noqa: E731
    r, left = rounds(B, G)
    return r * entries(P // G) + left * entries(P) + B * net["sd"] / P


def best(f, P, units):
    """(time, G) of the best G: any G from 1 to min(P, units) (groups of P // G or P // G + 1 ranks)."""
    return min((f(G), G) for G in range(1, min(P, units) + 1))


# The cost sheet (--sheet). Inputs per experiment, each measured where it says
# (2 ranks = the 2-core machine, one OpenBLAS thread per rank):
#  lenet_mnist (lenet_paper, N = 1,232,769): the full-scale run of 2026-12-07 (docs/reproduction.md,
#     "Full-scale LeNet"; 2 ranks, the AMD EPYC host, OpenBLAS's Haswell kernels): a spectrum (M = 128,
#     n_vec 1, 100 trace vectors) 78 s at its quietest, Algorithm 1 (B = 3, n = 188) 224 s an epoch,
#     a training epoch (12,000 samples) about 15 s (10-25 s under load). The per-sample costs are
#     calibrated so that the model gives these times at P = 2;
#  vgg_cifar10 and initscale* (vgg12, N = 8,684,865; the init-scaling nets are vgg12 without BN, the
#     same GEMMs, assumed the same cost): the 2026-12-01 measurements on the Intel host with the SkylakeX
#     kernels (docs/performance.md, "Single precision", double columns; 1 rank, 200 samples): a product
#     reusing the pass 9.95 s, a gradient 5.25 s; one coupling batch (N_b = 100 and 10) 74 s on one
#     core, measured 2026-12-07 on the AMD EPYC host (Zen 5) with OpenBLAS's own Cooperlake kernels:
#     one draw of 4 batches of 64 on 2 ranks in 147.9 s (docs/reproduction.md, "Cost of the full-scale
#     runs"; it replaces 318 s of 2026-12-01, measured on OpenBLAS's generic Prescott kernels);
#  a training step: the gradient of its batch split over P ranks plus an allreduce of 8N bytes
#     (reduce-scatter and all-gather, as a product's exchange; docs/scaling.md "Training step").
SHEET_NETS = {
    "lenet_paper": dict(N=1_232_769, m=200, Lbn=0, n=188, sd=20.0, ntrain=12_000, batch=64),
    "vgg12": dict(N=8_684_865, m=200, c=9.95 / 200, Lbn=12, n=157, tb=74.0, sd=20.0, ct=5.25 / 200, ntrain=10_000, batch=64),
}


def train_epoch(net, P, alpha, beta):
    steps = math.ceil(net["ntrain"] / net["batch"])
    return steps * (net["ct"] * math.ceil(net["batch"] / P) + comm(net, P, alpha, beta))


def calibrate_lenet(alpha, beta):
    """lenet_paper's per-sample costs from the full-scale run's stage and epoch times on 2 ranks (linear in each)."""
    net = dict(SHEET_NETS["lenet_paper"], c=0.0, tb=0.0, ct=0.0)
    t0 = spectrum(net, 2, 1, 1, 100, alpha, beta)
    net["c"] = 1.0
    net["c"] = (78.0 - t0) / (spectrum(net, 2, 1, 1, 100, alpha, beta) - t0)
    net["tb"] = (224.0 - coupling(net, 2, 1, 3)) / (3 * math.ceil(net["n"] / 2))
    net["ct"] = 1.0
    net["ct"] = (15.0 - train_epoch(dict(net, ct=0.0), 2, alpha, beta)) / (train_epoch(net, 2, alpha, beta) - train_epoch(dict(net, ct=0.0), 2, alpha, beta))
    return net


def sheet(alpha, beta):
    lenet, vgg = calibrate_lenet(alpha, beta), SHEET_NETS["vgg12"]
    # (experiment, net, training P, epochs, analysis P, G, kept epochs with stages: [(count, seconds of one task)], sbatch lines)
    def analysis(net, P, G, nvec, T, B):
        return (spectrum(net, P, G, nvec, T, alpha, beta) if T is not None else 0.0) + (coupling(net, P, G, B) if B else 0.0)
    rows = []
    # lenet_mnist: spectra at epochs 0..10 (100 trace vectors), Algorithm 1 at 0 and 10.
    Pt, Pa, G = 8, 32, 2
    tasks = [(9, analysis(lenet, Pa, G, 1, 100, 0)), (2, analysis(lenet, Pa, G, 1, 100, 3))]
    rows.append(("lenet_mnist", Pt, 10 * train_epoch(lenet, Pt, alpha, beta), Pa, G, tasks,
                 ["NNCAS_DATA=data/mnist NNCAS_OUT=runs/lenet sbatch --ntasks=8 jobs/slurm/lenet_mnist.sbatch -checkpoint_keep 1 -spectrum_every 0 -coupling_every 0",
                  "NNCAS_INPUT=lenet_mnist NNCAS_TRAIN=runs/lenet NNCAS_DATA=data/mnist sbatch --ntasks=32 --array=0-10 jobs/slurm/analysis.sbatch -stage_groups 2"]))
    # vgg_cifar10: spectrum (no trace) and Algorithm 1 (B = 3) at epochs 0, 10, ..., 300.
    Pt, Pa, G = 32, 471, 3
    tasks = [(31, analysis(vgg, Pa, G, 1, 0, 3))]
    rows.append(("vgg_cifar10", Pt, 300 * train_epoch(vgg, Pt, alpha, beta), Pa, G, tasks,
                 ["NNCAS_DATA=data/cifar-10-batches-bin NNCAS_OUT=runs/vgg sbatch --ntasks=32 jobs/slurm/vgg_cifar10.sbatch -checkpoint_keep 10 -spectrum_every 0 -coupling_every 0",
                  "NNCAS_INPUT=vgg_cifar10 NNCAS_TRAIN=runs/vgg NNCAS_DATA=data/cifar-10-batches-bin sbatch --ntasks=471 --array=0-300:10 jobs/slurm/analysis.sbatch -stage_groups 3"]))
    # initscale: the study before training (3 x 20 gradients on 200 samples, 3 spectra, no trace) in the
    # training job, on P ranks in G groups; then 10 epochs. The other four: training only.
    P, G = 64, 4
    study = 3 * 20 / G * (vgg["ct"] * math.ceil(vgg["m"] / (P // G)) + comm(vgg, P // G, alpha, beta)) + 3 * spectrum(vgg, P, 1, 1, 0, alpha, beta)
    rows.append(("initscale", P, study + 10 * train_epoch(vgg, P, alpha, beta), None, G, [],
                 ["NNCAS_DATA=data/cifar-10-batches-bin sbatch --ntasks=64 jobs/slurm/initscale.sbatch -stage_groups 4"]))
    for name, epochs in (("initscale_c1_dynamic", 2), ("initscale_chalf_dynamic", 1), ("initscale_c2_constant", 1), ("initscale_c2_bn_dynamic", 2)):
        rows.append((name, 32, epochs * train_epoch(vgg, 32, alpha, beta), None, None, [],
                     [f"NNCAS_INPUT={name} NNCAS_DATA=data/cifar-10-batches-bin sbatch --ntasks=32 jobs/slurm/initscale.sbatch"]))
    print("| experiment | training job: P, wall time, core-hours | analysis job: P, G, tasks x wall time each | core-hours in all | wall time (analysis tasks all at once) |")
    print("|---|---|---|---|---|")
    for name, Pt, tt, Pa, G, tasks, lines in rows:
        ch = Pt * tt / 3600
        train = f"P = {Pt}" + (f", G = {G}" if Pa is None and G else "") + f", {fmt(tt)}, {ch:.1f}"
        if Pa:
            ana = f"P = {Pa}, G = {G}, " + " + ".join(f"{k} x {fmt(t)}" for k, t in tasks)
            ach = sum(k * t for k, t in tasks) * Pa / 3600
            wall = tt + max(t for _, t in tasks)
        else:
            ana, ach, wall = "(none: in the training job)" if G else "(none)", 0.0, tt
        print(f"| `{name}` | {train} | {ana} | {ch + ach:.1f} | {fmt(wall)} |")
    print()
    for name, *_, lines in rows:
        print(f"    # {name}")
        for l in lines:
            print(f"    {l}")
    print(f"lenet_paper calibrated: a product {lenet['c'] * 100:.3f} s on 2 ranks (c = {lenet['c']:.2e} s a sample on one core), "
          f"a coupling batch {lenet['tb']:.2f} s on one core, training {lenet['ct']:.2e} s a sample on one core")


def fmt(s):
    return f"{s:.0f} s" if s < 600 else f"{s / 60:.0f} min" if s < 36000 else f"{s / 3600:.0f} h"


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--alpha", type=float, default=2e-6, help="latency, seconds")
    ap.add_argument("--beta", type=float, default=1e-10, help="inverse bandwidth, seconds per byte")
    ap.add_argument("--sheet", action="store_true", help="the cost sheet of docs/reproduction.md instead")
    a = ap.parse_args()
    if a.sheet:
        sheet(a.alpha, a.beta)
        return
    Ps = [2, 8, 32, 128, 512, 1024, 4096]
    cases = [
        ("LeNet spectrum, n_vec 1, 100 trace vectors", 100, lambda P, G: spectrum(NETS["LeNet"], P, G, 1, 100, a.alpha, a.beta)),
        ("LeNet spectrum, n_vec 10, 100 trace vectors", 100, lambda P, G: spectrum(NETS["LeNet"], P, G, 10, 100, a.alpha, a.beta)),
        ("VGG12 spectrum, n_vec 1, 100 trace vectors", 100, lambda P, G: spectrum(NETS["VGG12"], P, G, 1, 100, a.alpha, a.beta)),
        ("VGG12 Algorithm 1, one epoch (B = 3 draws)", 3, lambda P, G: coupling(NETS["VGG12"], P, G, 3)),
        ("VGG12 Algorithm 1, the whole run (31 epochs of 3 draws)", 3, lambda P, G: 31 * coupling(NETS["VGG12"], P, G, 3)),
    ]
    print("| stage | " + " | ".join(f"P = {P}" for P in Ps) + " |")
    print("|---|" + "---|" * len(Ps))
    for name, units, f in cases:
        cells = []
        for P in Ps:
            t1 = f(P, 1)
            t, G = best(lambda G: f(P, G), P, units)
            cells.append(fmt(t) + (f" (G = {G}; {fmt(t1)} with G = 1)" if G > 1 and t < 0.95 * t1 else ""))
        print(f"| {name} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
