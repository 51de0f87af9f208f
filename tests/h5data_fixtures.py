#!/usr/bin/python3
"""The HDF5 files of the -data_format h5 tests (a CTest FIXTURES_SETUP step).

    h5data_fixtures.py OUT_DIR

Writes into OUT_DIR (created; never committed, binary):

  good files, whose values test_h5data.c recomputes from value(i, k) below:
    good_f32_rank4.h5   /train x (40, 2, 3, 5) float32, y int64 0..3;
                        /val x (12, 2, 3, 5) float32, y uint8 0..3
    good_f64_rank2.h5   /train x (30, 7) float64, y float64 +-1; no /val
    good_f64_rank4_pm.h5 /train x (24, 1, 4, 4) float64, y int8 +-1;
                        /val x (10, 1, 4, 4) float64, y int16 +-1
  and for each good file NAME.h5 a text file NAME.stats: the per-channel mean
  and population standard deviation of the training x, computed by numpy in
  double (one line per channel, "mean std").

  malformed files, one flaw each (the messages are checked by the tests):
    no_train.h5 no_y.h5 count.h5 nan.h5 nonint.h5 rank3.h5 empty.h5
    shape.h5 truncated.h5 text.h5

  and fuzz_seed/: tiny valid files, seeds for fuzz/fuzz_h5data.c (the
  committed tests/fuzz/h5data/flat_f32 and chw_f64_val were written so).
"""
import os
import sys

import h5py
import numpy as np


def value(i, k):
    """Sample i's k-th value (flat index within the sample), in double."""
    return ((i * 31 + k * 17) % 101) / 7.0 - 3.0 + 0.001 * i


def samples(n, shape, dtype, first=0):
    d = int(np.prod(shape))
    x = np.array([[value(first + i, k) for k in range(d)] for i in range(n)], dtype=np.float64)
    return x.astype(dtype).reshape((n,) + tuple(shape))


def write(path, train, val=None):
    with h5py.File(path, "w") as f:
        for name, split in (("train", train), ("val", val)):
            if split is None:
                continue
            g = f.create_group(name)
            for key, data in split.items():
                g.create_dataset(key, data=data)


def stats(path, x):
    """Per-channel mean and population std of x (n, C, ...) or (n, F) in double."""
    x = x.astype(np.float64)
    c = x.shape[1]
    per = x.reshape(x.shape[0], c, -1).transpose(1, 0, 2).reshape(c, -1)
    with open(path, "w") as f:
        for row in per:
            f.write("%.17g %.17g\n" % (row.mean(), row.std()))


def good(out):
    x = samples(40, (2, 3, 5), np.float32)
    write(os.path.join(out, "good_f32_rank4.h5"),
          {"x": x, "y": np.arange(40, dtype=np.int64) % 4},
          {"x": samples(12, (2, 3, 5), np.float32, first=40), "y": (np.arange(12, dtype=np.uint8) + 1) % 4})
    stats(os.path.join(out, "good_f32_rank4.stats"), x)
    x = samples(30, (7,), np.float64)
    write(os.path.join(out, "good_f64_rank2.h5"),
          {"x": x, "y": np.where(np.arange(30) % 3 == 0, 1.0, -1.0)})
    stats(os.path.join(out, "good_f64_rank2.stats"), x)
    x = samples(24, (1, 4, 4), np.float64)
    write(os.path.join(out, "good_f64_rank4_pm.h5"),
          {"x": x, "y": np.where(np.arange(24) % 2 == 0, 1, -1).astype(np.int8)},
          {"x": samples(10, (1, 4, 4), np.float64, first=24),
           "y": np.where(np.arange(10) % 2 == 1, 1, -1).astype(np.int16)})
    stats(os.path.join(out, "good_f64_rank4_pm.stats"), x)


def malformed(out):
    p = lambda name: os.path.join(out, name)
    ok = {"x": samples(4, (3,), np.float32), "y": np.arange(4, dtype=np.int32) % 2}
    write(p("no_train.h5"), None, ok)
    write(p("no_y.h5"), {"x": ok["x"]})
    write(p("count.h5"), {"x": ok["x"], "y": np.zeros(3, dtype=np.int32)})
    x = samples(20, (3,), np.float64)
    x[17, 1] = np.nan
    write(p("nan.h5"), {"x": x, "y": np.zeros(20, dtype=np.int32)})
    write(p("nonint.h5"), {"x": ok["x"], "y": np.array([0.0, 1.0, 2.5, 1.0])})
    write(p("rank3.h5"), {"x": samples(4, (3, 2), np.float32), "y": ok["y"]})
    write(p("empty.h5"), {"x": np.zeros((0, 5), dtype=np.float32), "y": np.zeros(0, dtype=np.int32)})
    write(p("shape.h5"), {"x": samples(4, (1, 28, 28), np.float32), "y": ok["y"]},
          {"x": samples(2, (3, 32, 32), np.float32), "y": np.zeros(2, dtype=np.int32)})
    whole = p("whole.tmp")
    write(whole, {"x": samples(64, (1, 8, 8), np.float64), "y": np.arange(64, dtype=np.int64) % 10})
    data = open(whole, "rb").read()
    os.remove(whole)
    with open(p("truncated.h5"), "wb") as f:
        f.write(data[: len(data) // 2])
    with open(p("text.h5"), "w") as f:
        f.write("x,y\n0.5,1\n")


def fuzz_seeds(out):
    """Tiny valid files (< 10 KB each) to start the fuzzer from."""
    d = os.path.join(out, "fuzz_seed")
    os.makedirs(d, exist_ok=True)
    write(os.path.join(d, "flat_f32"), {"x": samples(3, (2,), np.float32), "y": np.array([0, 1, 0], np.int8)})
    write(os.path.join(d, "chw_f64_val"), {"x": samples(2, (1, 2, 2), np.float64), "y": np.array([1.0, -1.0])},
          {"x": samples(1, (1, 2, 2), np.float64), "y": np.array([1], np.int64)})


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    good(out)
    malformed(out)
    fuzz_seeds(out)


if __name__ == "__main__":
    main()
