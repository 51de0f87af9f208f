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
#         coupling draw (N_b = 100 and 10) 318 s on one core (docs/reproduction.md, "Cost of the
#         full-scale runs");
#  sd, a draw's statistics (standardising, the N_b^2 x N_b^2 correlations and counts: the same for
#         any network at N_b = 100, n = 157): not measured alone; 20 s on one core assumed.
NETS = {
    "LeNet": dict(N=577_409, m=200, c=0.15 * 2 / 200, Lbn=0, n=157, tb=35.9 * 2 / 157, sd=20.0),
    "VGG12": dict(N=8_684_865, m=200, c=12.3 * 2 / 200, Lbn=12, n=157, tb=318.0, sd=20.0),
}
VECTOR_RATE = 6.7e9  # flops per second per core of the reorthogonalisation (GEMV, memory bound): 2.8 s for 128 LeNet steps on 2 ranks


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
    ortho = sum(8 * j * net["N"] / p / VECTOR_RATE + 2 * math.log2(max(p, 2)) * alpha for j in range(1, M + 1))
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


def fmt(s):
    return f"{s:.0f} s" if s < 600 else f"{s / 60:.0f} min" if s < 36000 else f"{s / 3600:.0f} h"


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--alpha", type=float, default=2e-6, help="latency, seconds")
    ap.add_argument("--beta", type=float, default=1e-10, help="inverse bandwidth, seconds per byte")
    a = ap.parse_args()
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
