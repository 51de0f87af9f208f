#!/usr/bin/python3
"""Small random-weight PyTorch models exported to ONNX, for tests/test_import.c.

    onnx_models.py OUT_DIR

For each model NAME it writes into OUT_DIR:
  NAME.onnx   torch.onnx.export(..., training=PRESERVE, do_constant_folding=False)
  NAME.json   what nncas must read from it, computed from PyTorch (not from the
              ONNX file): the node kinds in order, each node's input tensors
              (0: the graph's input, i + 1: node i's output), output shape per
              sample and scalar (BN's eps, Dropout's ratio, else 0), the
              per-sample input shape, the output width, the parameter count
              (sum of p.numel()) and the BN running statistics' count;
  NAME.f64    the parameters flat, in node order, float32 -> float64, little
              endian: per node its weight (PyTorch's layout: conv (OC, C, KH, KW),
              dense (out, in)), bias, and for BN gamma, beta, running mean, var.
A refused model's NAME.json holds instead "error": the one line nncas must
report after "<path>: ", naming the node (its ONNX name, taken from the file)
and the operator or attribute.
"""
import json
import operator
import os
import sys

import numpy as np
import onnx
import torch
import torch.fx
import torch.fx.passes.shape_prop
import torch.nn as nn
import torch.nn.functional as F
import torchvision

SUPPORTED = ("Conv, Gemm, MatMul, Add, Mul, Relu, Tanh, Sigmoid, MaxPool, AveragePool, GlobalAveragePool, "
             "BatchNormalization, Flatten, Reshape, Dropout, Identity, Constant, Shape, Gather, Unsqueeze, Concat, "
             "Transpose, Pad")


class Chain(nn.Module):
    """(a) conv s2 p1, BN, tanh, maxpool 3/2/1, conv, BN, SiLU, avgpool 2 pad 1, view, linear."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 4, 3, stride=2, padding=1)
        self.bn1 = nn.BatchNorm2d(4)
        self.pool1 = nn.MaxPool2d(3, stride=2, padding=1)
        self.conv2 = nn.Conv2d(4, 6, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(6, eps=1e-3)
        self.pool2 = nn.AvgPool2d(2, padding=1)  # count_include_pad: torch writes Pad, AveragePool
        self.fc = nn.Linear(6 * 3 * 3, 7)

    def forward(self, x):
        x = self.pool1(torch.tanh(self.bn1(self.conv1(x))))
        x = self.pool2(F.silu(self.bn2(self.conv2(x))))
        x = x.view(x.size(0), -1)
        return self.fc(x)


class Block(nn.Module):
    """A basic residual block; with stride 2 the skip is a 1x1 stride-2 conv and BN."""

    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.down = None
        if stride != 1 or cin != cout:
            self.down = nn.Sequential(nn.Conv2d(cin, cout, 1, stride=stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x):
        y = self.bn2(self.conv2(F.relu(self.bn1(self.conv1(x)))))
        skip = x if self.down is None else self.down(x)
        return F.relu(y + skip)


class Residual(nn.Module):
    """(b) conv, BN, relu, two residual blocks (the second downsampling), GAP, flatten, linear."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3, padding=1, bias=False)
        self.bn = nn.BatchNorm2d(8)
        self.block1 = Block(8, 8, 1)
        self.block2 = Block(8, 16, 2)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(16, 10)

    def forward(self, x):
        x = self.block2(self.block1(F.relu(self.bn(self.conv(x)))))
        return self.fc(torch.flatten(self.pool(x), 1))


class Mlp(nn.Module):
    """(c) 20-16-16-5 with dropout."""

    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(20, 16), nn.ReLU(), nn.Dropout(0.25), nn.Linear(16, 16), nn.Sigmoid(),
                                 nn.Dropout(0.1), nn.Linear(16, 5))

    def forward(self, x):
        return self.net(x)


class MatMulNet(nn.Module):
    """x @ W + b with W (in, out): ONNX MatMul then Add."""

    def __init__(self):
        super().__init__()
        self.w1 = nn.Parameter(torch.randn(12, 9))
        self.b1 = nn.Parameter(torch.randn(9))
        self.fc = nn.Linear(9, 3, bias=False)

    def forward(self, x):
        return self.fc(torch.tanh(x @ self.w1 + self.b1))


class Softmaxed(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(6, 4)

    def forward(self, x):
        return torch.softmax(self.fc(x), dim=1)


class Grouped(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(4, 4, 3, groups=2)

    def forward(self, x):
        return torch.flatten(self.conv(x), 1)


class CeilPool(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(2, 3, 3)
        self.pool = nn.MaxPool2d(2, ceil_mode=True)

    def forward(self, x):
        return torch.flatten(self.pool(self.conv(x)), 1)


# The kind of node each PyTorch module or function becomes in nncas.
MODULE_KIND = {nn.Conv2d: "CONV", nn.Linear: "DENSE", nn.ReLU: "RELU", nn.Tanh: "TANH", nn.Sigmoid: "SIGMOID",
               nn.SiLU: "SILU", nn.MaxPool2d: "MAXPOOL", nn.AvgPool2d: "AVGPOOL", nn.AdaptiveAvgPool2d: "GLOBALAVGPOOL",
               nn.BatchNorm2d: "BN", nn.Flatten: "FLATTEN", nn.Dropout: "DROPOUT"}
FUNCTION_KIND = {F.relu: "RELU", torch.relu: "RELU", torch.tanh: "TANH", torch.sigmoid: "SIGMOID", F.silu: "SILU",
                 torch.flatten: "FLATTEN", operator.add: "ADD", operator.iadd: "ADD", torch.add: "ADD",
                 operator.matmul: "MATMUL"}
METHOD_KIND = {"view": "FLATTEN", "flatten": "FLATTEN", "relu": "RELU"}


def traced_nodes(model, keep_dropout, shape):
    """[(kind, [input tensors], module or None, output shape per sample)] in
    execution order, from torch.fx (shapes by its ShapeProp on a batch of 2)."""
    gm = torch.fx.symbolic_trace(model)
    torch.fx.passes.shape_prop.ShapeProp(gm).propagate(torch.randn(2, *shape))
    mods = dict(gm.named_modules())
    tensor, out = {}, []
    for n in gm.graph.nodes:
        kind, mod = None, None
        if n.op == "placeholder":
            tensor[n] = 0
            continue
        if n.op == "call_module":
            mod = mods[n.target]
            kind = MODULE_KIND[type(mod)]
        elif n.op == "call_function":
            kind = FUNCTION_KIND.get(n.target)
        elif n.op == "call_method":
            kind = METHOD_KIND.get(n.target)
        if kind == "DROPOUT" and not keep_dropout:
            kind = None
        args = [tensor[a] for a in n.args if isinstance(a, torch.fx.Node) and tensor.get(a) is not None]
        if kind is None:  # size(), getattr: no tensor; eval-mode dropout: its input
            tensor[n] = args[0] if n.op == "call_module" else None
            continue
        size = list(n.meta["tensor_meta"].shape[1:])
        if kind == "ADD" and out and out[-1][0] == "MATMUL" and len(args) == 1:  # x @ W + b: one dense node
            out[-1] = ("DENSE", out[-1][1], out[-1][2], size)
            tensor[n] = len(out)
            continue
        out.append((kind, args, mod, size))
        tensor[n] = len(out)
    return out


def parameters_flat(model, nodes):
    """The parameters in node order as float64, PyTorch's layouts (MatMul's (in, out) transposed)."""
    vals, dense = [], [p for name, p in model.named_parameters() if name.startswith("w") or name.startswith("b")]
    for kind, _, mod, _ in nodes:
        if mod is None and kind == "DENSE":  # x @ W + b
            w, b = dense[0], dense[1]
            dense = dense[2:]
            vals += [w.detach().t(), b.detach()]
        elif isinstance(mod, (nn.Conv2d, nn.Linear)):
            vals += [t.detach() for t in (mod.weight, mod.bias) if t is not None]
        elif isinstance(mod, nn.BatchNorm2d):
            vals += [mod.weight.detach(), mod.bias.detach(), mod.running_mean, mod.running_var]
    return np.concatenate([v.double().reshape(-1).numpy() for v in vals]) if vals else np.zeros(0)


def export(model, shape, path, opset, train, fixed_batch=False, inits_as_inputs=False):
    """fixed_batch: the file's batch dimension is 2, not symbolic; inits_as_inputs:
    the initializers are listed as graph inputs too (keep_initializers_as_inputs)."""
    model.train(train)
    x = torch.randn(2, *shape)
    axes = None if fixed_batch else {"input": {0: "batch"}, "output": {0: "batch"}}
    torch.onnx.export(model, x, path, opset_version=opset, training=torch.onnx.TrainingMode.PRESERVE,
                      do_constant_folding=False, input_names=["input"], output_names=["output"],
                      dynamic_axes=axes, keep_initializers_as_inputs=inits_as_inputs)
    return model(x)


def randomize_bn(model):
    """Running statistics other than 0 and 1, so the test sees they are read;
    momentum 0, so that a train-mode forward pass (the export's) keeps them."""
    g = torch.Generator().manual_seed(7)
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.momentum = 0.0
            m.running_mean.copy_(torch.randn(m.num_features, generator=g))
            m.running_var.copy_(torch.rand(m.num_features, generator=g) + 0.5)
            m.weight.data.copy_(torch.randn(m.num_features, generator=g))
            m.bias.data.copy_(torch.randn(m.num_features, generator=g))


def write_model(out, name, model, shape, opset, train, **how):
    randomize_bn(model)
    nodes = traced_nodes(model, train, shape)
    flat = parameters_flat(model, nodes)
    y = export(model, shape, os.path.join(out, name + ".onnx"), opset, train, **how)
    assert np.array_equal(flat, parameters_flat(model, nodes)), "the export changed the parameters"
    bn = sum(m.running_mean.numel() + m.running_var.numel() for m in model.modules() if isinstance(m, nn.BatchNorm2d))
    flat.astype("<f8").tofile(os.path.join(out, name + ".f64"))
    meta = {"kinds": [n[0] for n in nodes], "inputs": [n[1] for n in nodes], "shapes": [n[3] for n in nodes],
            "scalars": [getattr(n[2], "eps", getattr(n[2], "p", 0)) if n[2] is not None else 0 for n in nodes],
            "shape": list(shape),
            "outputs": int(y.shape[1]), "params": sum(p.numel() for p in model.parameters()), "bn_stats": bn,
            "values": int(flat.size), "opset": opset}
    with open(os.path.join(out, name + ".json"), "w") as f:
        json.dump(meta, f)


def node_named(path, op):
    """The ONNX name of the first node of type op in the exported file."""
    return next(n.name for n in onnx.load(path).graph.node if n.op_type == op)


def write_refused(out, name, model, shape, op, message, opset=13):
    path = os.path.join(out, name + ".onnx")
    export(model, shape, path, opset, False)
    line = message.format(node=node_named(path, op)) if "{node}" in message else message
    with open(os.path.join(out, name + ".json"), "w") as f:
        json.dump({"error": line}, f)


# ---- models written with onnx.helper: what torch does not write ----------------

def onnx_model(nodes, inits, inputs=(("x", [None, 2, 5, 5]),), outputs=("y",), opset=13):
    from onnx import TensorProto, helper
    ins = [helper.make_tensor_value_info(n, TensorProto.FLOAT, ["N" if d is None else d for d in dims])
           for n, dims in inputs]
    outs = [helper.make_tensor_value_info(n, TensorProto.FLOAT, None) for n in outputs]
    graph = helper.make_graph(nodes, "g", ins, outs, initializer=inits)
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])


def init(name, array):
    from onnx import numpy_helper
    return numpy_helper.from_array(array, name)


def write_handmade(out):
    """Gemm with transB = 0 and a DOUBLE weight in double_data, its bias in
    float_data, a Reshape by a Constant's value_ints, Identity, a Dropout without ratio."""
    from onnx import TensorProto, helper
    rng = np.random.default_rng(1)
    w = rng.standard_normal((3, 2, 3, 3)).astype(np.float32)
    b = rng.standard_normal((75, 4))
    c = rng.standard_normal(4).astype(np.float32)
    nodes = [helper.make_node("Identity", ["x"], ["x1"], name="id"),
             helper.make_node("Conv", ["x1", "w"], ["c"], name="conv", pads=[1, 1, 1, 1]),
             helper.make_node("Relu", ["c"], ["r"], name="relu"),
             helper.make_node("Constant", [], ["shape"], name="shape", value_ints=[0, -1]),
             helper.make_node("Reshape", ["r", "shape"], ["f"], name="reshape"),
             helper.make_node("Gemm", ["f", "b", "c_bias"], ["g"], name="gemm", transB=0),
             helper.make_node("Dropout", ["g"], ["y"], name="drop")]
    inits = [init("w", w), helper.make_tensor("b", TensorProto.DOUBLE, b.shape, b.ravel()),
             helper.make_tensor("c_bias", TensorProto.FLOAT, c.shape, c)]
    with open(os.path.join(out, "handmade.onnx"), "wb") as f:
        f.write(onnx_model(nodes, inits).SerializeToString())
    flat = np.concatenate([w.astype(np.float64).ravel(), b.T.astype(np.float64).ravel(), c.astype(np.float64)])
    flat.astype("<f8").tofile(os.path.join(out, "handmade.f64"))
    meta = {"kinds": ["CONV", "RELU", "FLATTEN", "DENSE", "DROPOUT"], "inputs": [[0], [1], [2], [3], [4]],
            "shapes": [[3, 5, 5], [3, 5, 5], [75], [4], [4]], "scalars": [0, 0, 0, 0, 0.5], "shape": [2, 5, 5],
            "outputs": 4, "params": int(w.size + b.size + c.size), "bn_stats": 0, "values": int(flat.size)}
    with open(os.path.join(out, "handmade.json"), "w") as f:
        json.dump(meta, f)


def refused_nodes(conv, flat, w):
    """Single nodes or patterns nncas refuses, naming the node and what."""
    from onnx import helper
    flat_p = helper.make_node("Flatten", ["p"], ["y"], name="flat")
    pool = helper.make_node("MaxPool", ["x"], ["p", "i"], name="pool", kernel_shape=[2, 2])
    bn_init = [init(n, np.ones(2, dtype=np.float32)) for n in ("g", "b", "m", "v")]
    bn = helper.make_node("BatchNormalization", ["x", "g", "b", "m", "v"], ["p", "rm", "rv"], name="bn",
                          training_mode=1)
    sig = helper.make_node("Sigmoid", ["x"], ["s"], name="sig")
    return {
        "indices": (onnx_model([pool, helper.make_node("Add", ["p", "i"], ["a"], name="add"),
                                helper.make_node("Flatten", ["a"], ["y"], name="flat")], []),
                    'node "pool" (MaxPool): output 1 ("i") is used; nncas supports only the first output'),
        "bn_stats": (onnx_model([bn, flat_p], bn_init, outputs=("y", "rm")),
                     'node "bn" (BatchNormalization): output 1 ("rm") is used; nncas supports only the first output'),
        "dilated": (onnx_model([helper.make_node("Conv", ["x", "w"], ["c"], name="conv", dilations=[2, 2]), flat], [w]),
                    'node "conv" (Conv): attribute dilations = [2, 2] is not supported (only [1, 1])'),
        "same_pad": (onnx_model([helper.make_node("Conv", ["x", "w"], ["c"], name="conv", auto_pad="SAME_UPPER"), flat],
                                [w]),
                     'node "conv" (Conv): attribute auto_pad = SAME_UPPER is not supported (only NOTSET)'),
        "flatten2": (onnx_model([conv, helper.make_node("Flatten", ["c"], ["y"], name="flat", axis=2)], [w]),
                     'node "flat" (Flatten): attribute axis = 2 is not supported (only 1)'),
        "mul": (onnx_model([sig, helper.make_node("Mul", ["s", "s"], ["p"], name="mul"), flat_p], []),
                'node "mul" (Mul): operator Mul is supported only as x * Sigmoid(x) (SiLU)'),
        "custom": (onnx_model([helper.make_node("Conv", ["x", "w"], ["c"], name="conv", domain="com.example"), flat],
                              [w]),
                   'node "conv" (Conv): operator of domain com.example not supported (only ONNX\'s own: '
                   + SUPPORTED + ")"),
        "undefined": (onnx_model([helper.make_node("Conv", ["x", "w2"], ["c"], name="conv"), flat], [w]),
                      'node "conv" (Conv): input "w2" is neither an initializer nor an earlier node\'s output'),
        "unnamed": (onnx_model([conv, helper.make_node("LayerNormalization", ["c"], ["y"])], [w]),
                    'node "LayerNormalization_1" (LayerNormalization): operator not supported (supported: '
                    + SUPPORTED + ")"),
    }


def write_handmade_refused(out):
    """Models nncas must refuse, each with the line it must say."""
    from onnx import TensorProto, helper
    w = init("w", np.ones((3, 2, 3, 3), dtype=np.float32))
    conv = helper.make_node("Conv", ["x", "w"], ["c"], name="conv")
    flat = helper.make_node("Flatten", ["c"], ["y"], name="flat")
    external = init("w", np.ones((3, 2, 3, 3), dtype=np.float32))
    external.ClearField("raw_data")
    external.data_location = TensorProto.EXTERNAL
    external.external_data.add(key="location", value="weights.bin")
    cases = {
        "external": (onnx_model([conv, flat], [external]),
                     'initializer "w": its data is in an external file; nncas reads only self-contained models '
                     "(export without external data)"),
        "int8": (onnx_model([conv, flat], [init("w", np.ones((3, 2, 3, 3), dtype=np.int8))]),
                 'initializer "w" has type INT8; nncas supports FLOAT and DOUBLE (and INT64 for shapes)'),
        "two_inputs": (onnx_model([conv, flat], [w], inputs=(("x", [None, 2, 5, 5]), ("z", [None, 3]))),
                       "the graph has 2 inputs that are not initializers; nncas reads models with one"),
        "two_outputs": (onnx_model([conv, flat], [w], outputs=("y", "c")),
                        "the graph has 2 outputs; nncas reads models with one"),
        "rank3": (onnx_model([conv, flat], [w], inputs=(("x", [None, 2, 5]),)),
                  'input "x" has rank 3; nncas reads inputs (N, F) or (N, C, H, W)'),
        "reshape": (onnx_model([conv, helper.make_node("Reshape", ["c", "s"], ["y"], name="reshape")],
                               [w, init("s", np.array([-1, 3, 9], dtype=np.int64))]),
                    'node "reshape" (Reshape): shape [-1, 3, 9] is not supported: nncas reshapes only to (batch, 27), '
                    "a flatten"),
        "channels": (onnx_model([conv, flat], [init("w", np.ones((3, 4, 3, 3), dtype=np.float32))]),
                     'node "conv" (Conv): weight "w" takes 4 input channels, the input has 2'),
        "add_const": (onnx_model([conv, helper.make_node("Add", ["c", "k"], ["a"], name="add"), flat], [w, init(
            "k", np.ones(3, dtype=np.float32))]),
                      'node "add" (Add): adding the constant "k" is not supported (only two tensors, or a bias right '
                      "after a MatMul)"),
        "add_shapes": (onnx_model([conv, helper.make_node("Add", ["c", "x"], ["a"], name="add"),
                                   helper.make_node("Flatten", ["a"], ["y"], name="flat")], [w]),
                       'node "add" (Add): the inputs\' shapes (N, 3, 3, 3) and (N, 2, 5, 5) differ'),
    }
    cases.update(refused_nodes(conv, flat, w))
    for name, (model, line) in cases.items():
        with open(os.path.join(out, name + ".onnx"), "wb") as f:
            f.write(model.SerializeToString())
        with open(os.path.join(out, name + ".json"), "w") as f:
            json.dump({"error": line}, f)
    return sorted(cases)


def main(out):
    os.makedirs(out, exist_ok=True)
    torch.manual_seed(0)
    write_model(out, "chain", Chain(), (3, 16, 16), 13, True)
    write_model(out, "residual", Residual(), (3, 8, 8), 15, False)
    write_model(out, "mlp", Mlp(), (20,), 14, True)
    write_model(out, "matmul", MatMulNet(), (12,), 16, False)
    write_model(out, "chain_fixed", Chain(), (3, 16, 16), 17, False, fixed_batch=True, inits_as_inputs=True)
    write_model(out, "resnet18", torchvision.models.resnet18(num_classes=10), (3, 32, 32), 17, False)
    write_refused(out, "softmax", Softmaxed(), (6,), "Softmax",
                  'node "{node}" (Softmax): operator not supported (supported: ' + SUPPORTED + ")")
    write_refused(out, "grouped", Grouped(), (4, 6, 6), "Conv",
                  'node "{node}" (Conv): attribute group = 2 is not supported (only 1)')
    write_refused(out, "ceilpool", CeilPool(), (2, 7, 7), "MaxPool",
                  'node "{node}" (MaxPool): attribute ceil_mode = 1 is not supported (only 0)')
    write_refused(out, "opset12", Mlp(), (20,), "Gemm", "opset 12 is not supported (only 13 to 17)", opset=12)
    write_handmade(out)
    write_handmade_refused(out)


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    main(sys.argv[1])
