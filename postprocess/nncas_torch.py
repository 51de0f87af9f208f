#!/usr/bin/python3
"""Load an nncas checkpoint into PyTorch.

    import nncas_torch
    model, info = nncas_torch.load("runs/quickstart/checkpoint.h5")
    out = model(x)        # x: (B, C, H, W) float64, standardised as nncas does

The network is rebuilt as a torch.nn.Sequential from the checkpoint's layer
string (attribute net_spec), layer for layer: index i of the Sequential is
nncas's layer Lii, so /weights/Lii_conv/weight goes to model[i].weight.
nncas's "bn" (batch statistics, no affine, no running statistics, eps 1e-5)
is BatchNorm{1,2}d(affine=False, track_running_stats=False).

Run as a script to print the model: nncas_torch.py CHECKPOINT
"""
import sys

import h5py
import numpy as np
import torch
from torch import nn


def _attr(f, name):
    v = f.attrs[name]
    return v.decode() if isinstance(v, bytes) else v


def build(spec, channels, height, width, bias=True):
    """The nn.Sequential of a layer string for inputs of shape (channels, height, width)."""
    layers, c, h, w = [], channels, height, width
    spatial = h * w > 1
    for item in spec.split(","):
        kind, *args = item.strip().split(":")
        if kind == "dense" and spatial:
            layers.append(nn.Flatten())
            c, h, w, spatial = c * h * w, 1, 1, False
        if kind == "conv":
            oc, k = int(args[0]), int(args[1])
            pad = int(args[2]) if len(args) > 2 else 0
            layers.append(nn.Conv2d(c, oc, k, padding=pad, bias=bias))
            c, h, w = oc, h + 2 * pad - k + 1, w + 2 * pad - k + 1
        elif kind == "dense":
            layers.append(nn.Linear(c, int(args[0]), bias=bias))
            c = int(args[0])
        elif kind == "pool":
            k = int(args[0])
            layers.append(nn.MaxPool2d(k))
            h, w = h // k, w // k
        elif kind in ("relu", "sigmoid", "tanh"):
            layers.append({"relu": nn.ReLU, "sigmoid": nn.Sigmoid, "tanh": nn.Tanh}[kind]())
        elif kind == "swish":
            layers.append(nn.SiLU())
        elif kind == "bn":
            bn = nn.BatchNorm2d if spatial else nn.BatchNorm1d
            layers.append(bn(c, eps=1e-5, affine=False, track_running_stats=False))
        elif kind == "dropout":
            layers.append(nn.Dropout(float(args[0])))
        elif kind == "flatten":
            if spatial:
                layers.append(nn.Flatten())
                c, h, w, spatial = c * h * w, 1, 1, False
        else:
            raise ValueError(f"unknown layer {item!r}")
    return nn.Sequential(*layers).double()


def load(path, group="weights"):
    """(model, info) from an nncas checkpoint; group "momentum" loads the momentum instead."""
    with h5py.File(path, "r") as f:
        info = {k: _attr(f, k) for k in f.attrs}
        model = build(info["net_spec"], int(info["data_channels"]), int(info["data_height"]),
                      int(info["data_width"]), bias=bool(info["net_bias"]))
        for name, g in f[group].items():
            i = int(name[1:3])
            layer = model[i]
            layer.weight.data = torch.from_numpy(np.array(g["weight"]))
            if "bias" in g:
                layer.bias.data = torch.from_numpy(np.array(g["bias"]))
    return model, info


if __name__ == "__main__":
    if len(sys.argv) != 2 or sys.argv[1] in ("-h", "--help"):
        print(__doc__)
        sys.exit(0 if len(sys.argv) == 2 else 2)
    m, meta = load(sys.argv[1])
    print(m)
    print(f"{sum(p.numel() for p in m.parameters())} parameters; loss {meta['net_loss']}")
