#!/usr/bin/python3
"""nncas's counter-based random numbers (src/core/rng.c) in numpy, bit for bit.

Draw i of stream key is SplitMix64's output for the counter key + (i + 1) *
golden: a pure function of (seed, stream, substream, i). The stream numbers
are those of include/nncas/streams.h.

    key = nncas_rng.key(seed, nncas_rng.STREAM_SPECTRUM, 1 + k)
    z = nncas_rng.normal(key, np.arange(N))      # density vector k before normalising
    perm = nncas_rng.permutation(nncas_rng.key(seed, nncas_rng.STREAM_HESSIAN, 0), n)
"""
import numpy as np

MASK = (1 << 64) - 1
GOLDEN = 0x9E3779B97F4A7C15
# include/nncas/streams.h
STREAM_HESSIAN = 7   # the Hessian's sample selection, substream 0
STREAM_SPECTRUM = 8  # the spectrum's vectors: normalisation 0, density vector k 1 + k, start vector 7


def _mix64_int(z):
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
    return z ^ (z >> 31)


def key(seed, stream, substream):
    """nn_rng_key(seed, stream, substream) as a Python int."""
    k = _mix64_int((seed + GOLDEN) & MASK)
    k = _mix64_int(k ^ ((stream * 0xD1B54A32D192ED03) & MASK))
    return _mix64_int(k ^ ((substream * 0x8CB92BA72F3D8DD7) & MASK))


def bits(k, i):
    """nn_rng_bits(k, i) for an array of counters i (uint64 arithmetic wraps modulo 2^64)."""
    i = np.asarray(i, dtype=np.uint64)
    with np.errstate(over="ignore"):
        z = np.uint64(k) + (i + np.uint64(1)) * np.uint64(GOLDEN)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


def uniform(k, i):
    """nn_rng_uniform: in [0, 1), 53 bits."""
    return (bits(k, i) >> np.uint64(11)).astype(np.float64) * 2.0 ** -53


def normal(k, i):
    """nn_rng_normal: Box-Muller on draws 2i and 2i + 1."""
    i = np.asarray(i, dtype=np.uint64)
    u1 = 1.0 - uniform(k, 2 * i)
    u2 = uniform(k, 2 * i + 1)
    return np.sqrt(-2.0 * np.log(u1)) * np.cos(2.0 * np.pi * u2)


def permutation(k, n):
    """nn_rng_permutation: Fisher-Yates from the end, j by Lemire's multiply-shift."""
    perm = list(range(n))
    hi = (bits(k, np.arange(n)) >> np.uint64(32)).tolist()
    for i in range(n - 1, 0, -1):
        j = (hi[i] * (i + 1)) >> 32
        perm[i], perm[j] = perm[j], perm[i]
    return np.array(perm, dtype=np.int64)
