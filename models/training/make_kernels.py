"""Writes the small ONNX graphs edged runs on onnxruntime as compute kernels (not models).

int8-dot.onnx: MatMulInteger of an [n, d] int8 matrix by a [d, 1] int8 vector -> [n, 1] int32, the scan of
memory's semantic search (onnxruntime's int8 GEMV is several times faster than a scalar JavaScript loop).

Usage: /usr/bin/python3 models/training/make_kernels.py models/kernels
"""
import os
import sys

import onnx
from onnx import TensorProto, helper

out = sys.argv[1]
os.makedirs(out, exist_ok=True)
graph = helper.make_graph(
    [helper.make_node("MatMulInteger", ["vectors", "query"], ["scores"])],
    "int8_dot",
    [helper.make_tensor_value_info("vectors", TensorProto.INT8, ["n", "d"]), helper.make_tensor_value_info("query", TensorProto.INT8, ["d", 1])],
    [helper.make_tensor_value_info("scores", TensorProto.INT32, ["n", 1])],
)
model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)], producer_name="edged")
model.ir_version = 8
onnx.checker.check_model(model)
onnx.save(model, os.path.join(out, "int8-dot.onnx"))
