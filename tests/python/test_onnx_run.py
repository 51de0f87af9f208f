"""Everything nncas does, on an imported model: a residual net with batch
normalization (running statistics) and 5 classes from ONNX, the user's data
from HDF5, trained from the model's weights with spectra every epoch and
coupling statistics at epochs 0 and 2, on 2 ranks; stopped mid-epoch and
restarted, it ends bit for bit as the run never stopped (tests/h5same.py);
the figures are drawn from its results."""
import os
import subprocess
import sys

import h5py
import numpy as np
import torch

import h5same
from test_onnx_hessian import Residual, export, randomize_bn, write_data

BUILD = os.environ.get("NNCAS_BUILD", "build")
HERE = os.path.dirname(os.path.abspath(__file__))
ENV = dict(os.environ, OPENBLAS_NUM_THREADS="1")


def run(out, opts, extra=(), ranks=2, expect=(0,)):
    cmd = ["mpiexec", "-q", "-n", str(ranks), "--oversubscribe", os.path.join(BUILD, "nncas")] + opts + \
          ["-output_dir", str(out)] + list(extra)
    r = subprocess.run(cmd, capture_output=True, text=True, env=ENV, timeout=600)
    assert r.returncode in expect, r.stdout[-3000:] + r.stderr[-3000:]
    return r


def test_imported_model_trains_restarts_bitwise_and_runs_every_stage(tmp_path):
    torch.manual_seed(5)
    model = Residual(k=5)
    randomize_bn(model, 5)
    onnx_path = tmp_path / "residual.onnx"
    export(model, (2, 8, 8), onnx_path)
    g = torch.Generator().manual_seed(9)
    data = tmp_path / "data.h5"
    with h5py.File(data, "w") as f:
        for split, n in (("train", 120), ("val", 40)):
            f[f"{split}/x"] = torch.randn((n, 2, 8, 8), generator=g).numpy().astype(np.float32)
            f[f"{split}/y"] = (np.arange(n) % 5).astype(np.int32)
    opts = ["-net_file", str(onnx_path), "-net_loss", "cross_entropy", "-data_format", "h5", "-data_file", str(data),
            "-train_epochs", "2", "-train_batch", "20", "-train_lr", "0.05", "-spectrum_every", "1", "-hessian_samples", "40",
            "-spectrum_trace_vecs", "5", "-spectrum_m0", "40", "-spectrum_m", "40", "-coupling_every", "2", "-coupling_nb", "10",
            "-coupling_draws", "2", "-coupling_null_draws", "2",
            "-coupling_block", "16"]
    straight, stopped = tmp_path / "straight", tmp_path / "stopped"
    run(straight, opts)
    r = run(stopped, opts, ["-train_stop_after_steps", "8"], expect=(3,))  # epoch 2, step 2 of 6
    assert "Stopped at epoch 2" in r.stdout, r.stdout[-2000:]
    run(stopped, opts, ["-restart"])
    for name in ("results.h5", "checkpoint.h5"):
        with h5py.File(straight / name, "r") as a, h5py.File(stopped / name, "r") as b:
            diffs, _ = h5same.compare(a, b, h5same.PROVENANCE)
        assert not diffs, f"{name}: {diffs[:5]}"
    with h5py.File(straight / "results.h5", "r") as f:
        assert sorted(f["spectrum"]) == ["epoch_0000", "epoch_0001", "epoch_0002"]
        assert sorted(f["coupling"]) == ["epoch_0000", "epoch_0002", "null"]
        ext = f["spectrum/epoch_0000/extremes"]
        assert ext["lambda_min"][0] < 0 < ext["lambda_max"][0]
        assert f["training/val_acc"].shape == (2,)
        assert f.attrs["net_spec"].startswith(b"onnx:residual.onnx") if isinstance(f.attrs["net_spec"], bytes) \
            else f.attrs["net_spec"].startswith("onnx:residual.onnx")
    figs = tmp_path / "figures"
    r = subprocess.run([sys.executable, os.path.join(HERE, "..", "..", "postprocess", "quickstart_figures.py"),
                        str(straight / "results.h5"), "--out", str(figs)], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr[-3000:]
    assert any(p.suffix == ".png" for p in figs.iterdir())


def test_mismatches_between_model_data_and_loss_are_refused_before_any_work(tmp_path):
    torch.manual_seed(6)
    onnx_path = tmp_path / "residual.onnx"
    export(Residual(k=5), (2, 8, 8), onnx_path)
    cases = [  # (x shape, labels, loss, expected words in the one line)
        ((6, 1, 8, 8), np.arange(6) % 5, "cross_entropy", "takes inputs of 2x8x8 per sample, the data set gives 1x8x8"),
        ((6, 2, 8, 8), np.arange(6) % 7, "cross_entropy", "has label 5, but -net_loss cross_entropy with the network's 5 outputs takes 0..4"),
        ((6, 2, 8, 8), np.where(np.arange(6) % 2, 1, -1), "hinge", "-net_loss hinge takes one output per sample, but the network gives 5"),
    ]
    for i, (shape, y, loss, words) in enumerate(cases):
        data = tmp_path / f"data{i}.h5"
        write_data(data, np.zeros(shape), y.astype(np.int64))
        out = tmp_path / f"run{i}"
        cmd = [os.path.join(BUILD, "nncas"), "-net_file", str(onnx_path), "-net_loss", loss, "-data_format", "h5",
               "-data_file", str(data), "-output_dir", str(out)]
        r = subprocess.run(cmd, capture_output=True, text=True, env=ENV, timeout=60)
        assert r.returncode == 1 and words in r.stderr, (words, r.stderr[-2000:])
        assert len(r.stderr.strip().splitlines()) == 1, r.stderr
        assert not out.exists()
