"""4-bit weight quantization of an ONNX model, written for edged's embedder.

Every MatMul/Gemm whose weight is a constant becomes onnxruntime's com.microsoft.MatMulNBits (4-bit blocks of 32
along K, one float scale and one 4-bit zero point per block), and the token-embedding Gather becomes
GatherBlockQuantized with the same block layout. Activations stay float32.

Usage: /usr/bin/python3 models/training/quantize_onnx.py IN.onnx OUT.onnx [--block 32]
"""
import argparse

import numpy as np
import onnx
from onnx import helper, numpy_helper

MS = "com.microsoft"


def quantize_blocks(w, block):
    """w: [rows, cols] quantized along cols in blocks. Returns (q uint8 [rows, cols], scales [rows, nb], zp [rows, nb])."""
    rows, cols = w.shape
    nb = (cols + block - 1) // block
    padded = np.zeros((rows, nb * block), dtype=np.float32)
    padded[:, :cols] = w
    blocks = padded.reshape(rows, nb, block)
    lo = np.minimum(blocks.min(-1), 0.0)
    hi = np.maximum(blocks.max(-1), 0.0)
    scale = (hi - lo) / 15.0
    scale[scale == 0] = 1.0
    zp = np.clip(np.round(-lo / scale), 0, 15)
    q = np.clip(np.round(blocks / scale[..., None]) + zp[..., None], 0, 15).astype(np.uint8)
    return q.reshape(rows, nb * block), scale.astype(np.float32), zp.astype(np.uint8)


def pack_nibbles(q):
    """Two 4-bit values per byte along the last axis, the first in the low nibble."""
    if q.shape[-1] % 2:
        q = np.concatenate([q, np.zeros(q.shape[:-1] + (1,), np.uint8)], -1)
    return (q[..., 0::2] | (q[..., 1::2] << 4)).astype(np.uint8)


def matmul_nbits(name, a, w_kn, block, out, bias=None):
    """Nodes and initializers computing out = a @ w_kn (+ bias) with the weight in 4 bits."""
    k, n = w_kn.shape
    q, scale, zp = quantize_blocks(w_kn.T, block)  # [N, K]: blocks run along K
    nb = scale.shape[1]
    inits = [
        numpy_helper.from_array(pack_nibbles(q.reshape(n, nb, block)), f"{name}_q4"),
        numpy_helper.from_array(scale.reshape(-1), f"{name}_scales"),
        numpy_helper.from_array(pack_nibbles(zp), f"{name}_zp"),
    ]
    target = f"{name}_mm" if bias is not None else out
    nodes = [helper.make_node("MatMulNBits", [a, f"{name}_q4", f"{name}_scales", f"{name}_zp"], [target],
                              name=f"{name}_MatMulNBits", domain=MS, K=k, N=n, bits=4, block_size=block, accuracy_level=4)]
    if bias is not None:
        inits.append(numpy_helper.from_array(bias.astype(np.float32), f"{name}_bias"))
        nodes.append(helper.make_node("Add", [target, f"{name}_bias"], [out], name=f"{name}_bias_add"))
    return nodes, inits


def gather_nbits(node, table, block):
    q, scale, zp = quantize_blocks(table, block)  # [vocab, dim]: blocks run along dim
    base = node.name.replace("/", "_") or "gather"
    inits = [
        numpy_helper.from_array(pack_nibbles(q), f"{base}_q4"),
        numpy_helper.from_array(scale, f"{base}_scales"),
        numpy_helper.from_array(pack_nibbles(zp), f"{base}_zp"),
    ]
    new = helper.make_node("GatherBlockQuantized", [f"{base}_q4", node.input[1], f"{base}_scales", f"{base}_zp"],
                           list(node.output), name=f"{base}_GatherBlockQuantized", domain=MS,
                           gather_axis=0, quantize_axis=1, block_size=block, bits=4)
    return [new], inits


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("input")
    ap.add_argument("output")
    ap.add_argument("--block", type=int, default=32)
    args = ap.parse_args()
    model = onnx.load(args.input)
    graph = model.graph
    consts = {i.name: numpy_helper.to_array(i) for i in graph.initializer}
    used_as_weight, nodes, new_inits, replaced = set(), [], [], 0
    for node in graph.node:
        attrs = {a.name: helper.get_attribute_value(a) for a in node.attribute}
        if node.op_type == "MatMul" and node.input[1] in consts and consts[node.input[1]].ndim == 2:
            w = consts[node.input[1]]
            new, inits = matmul_nbits(node.name.replace("/", "_") or f"mm{replaced}", node.input[0], w, args.block, node.output[0])
        elif (node.op_type == "Gemm" and node.input[1] in consts and attrs.get("transA", 0) == 0
              and attrs.get("alpha", 1.0) == 1.0 and attrs.get("beta", 1.0) == 1.0):
            w = consts[node.input[1]]
            w = w.T if attrs.get("transB", 0) else w
            bias = consts.get(node.input[2]) if len(node.input) > 2 else None
            new, inits = matmul_nbits(node.name.replace("/", "_") or f"gemm{replaced}", node.input[0], w, args.block, node.output[0], bias)
        elif node.op_type == "Gather" and node.input[0] in consts and consts[node.input[0]].shape[0] > 1024 and attrs.get("axis", 0) == 0:
            new, inits = gather_nbits(node, consts[node.input[0]], args.block)
        else:
            nodes.append(node)
            continue
        used_as_weight.add(node.input[0] if node.op_type == "Gather" else node.input[1])
        if node.op_type == "Gemm" and len(node.input) > 2:
            used_as_weight.add(node.input[2])
        nodes.extend(new)
        new_inits.extend(inits)
        replaced += 1
    still_used = {i for n in nodes for i in n.input}
    keep = [i for i in graph.initializer if i.name not in used_as_weight or i.name in still_used]
    del graph.node[:]
    graph.node.extend(nodes)
    del graph.initializer[:]
    graph.initializer.extend(keep + new_inits)
    if not any(o.domain == MS for o in model.opset_import):
        model.opset_import.append(helper.make_opsetid(MS, 1))
    onnx.save(model, args.output)
    print(f"{args.output}: {replaced} weights in 4 bits")


if __name__ == "__main__":
    main()
