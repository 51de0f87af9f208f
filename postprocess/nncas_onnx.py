"""An ONNX model as nncas imports it (-net_file, docs/import.md): the names
of its parameters in the order of nncas's theta, for mapping nncas's Hessian
and products onto a PyTorch model's named parameters."""
import onnx


def theta_names(onnx_path):
    """The initializers that are parameters, node after node as the ONNX graph
    lists them, weight then bias (BatchNormalization: gamma then beta; a
    MatMul's weight, then the Add that is its bias): nncas's theta order."""
    m = onnx.load(str(onnx_path))
    inits = {t.name for t in m.graph.initializer}
    names = []
    for node in m.graph.node:
        if node.op_type in ("Conv", "Gemm", "MatMul", "Add", "BatchNormalization"):
            take = node.input[1:3] if node.op_type in ("Conv", "Gemm", "BatchNormalization") else node.input
            names += [n for n in take if n in inits and n not in names]
    return names
