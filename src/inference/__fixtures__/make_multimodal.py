#!/usr/bin/python3
"""A tiny image + text classifier for the studio's multi-input tests (Debian's python3-onnx, numpy).

graph.onnx: inputs pixels F32 [b, 1, 2, 2], input_ids I64 [b, 6], attention_mask I64 [b, 6];
  logits = flatten(pixels) @ pixel.weight + (sum_l mask * embed.weight[ids] / sum_l mask) @ text.weight
           + head.bias
base/a/b.safetensors: the float initializers (a and b = base + small task vectors), so the studio
can merge them and run every method in the graph. The vocabulary (12) is the WordPiece test
tokenizer's (src/inference/__fixtures__/wordpiece.ts). Run from the repository root:
  /usr/bin/python3 src/inference/__fixtures__/make_multimodal.py
"""
import json
import os
import struct

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "multimodal")
V, D, C, L = 12, 3, 3, 6
rng = np.random.default_rng(7)


def weights(scale, base=None):
    w = {
        "pixel.weight": rng.normal(0, 1, (4, C)),
        "embed.weight": rng.normal(0, 1, (V, D)),
        "text.weight": rng.normal(0, 1, (D, C)),
        "head.bias": rng.normal(0, 1, (C,)),
    }
    w = {k: (v * scale).astype(np.float32) for k, v in w.items()}
    return w if base is None else {k: (base[k] + v).astype(np.float32) for k, v in w.items()}


def write_safetensors(path, tensors):
    header, blobs, offset = {}, [], 0
    for name in sorted(tensors):
        data = tensors[name].astype("<f4").tobytes()
        header[name] = {"dtype": "F32", "shape": list(tensors[name].shape), "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * (-len(h) % 8)
    with open(path, "wb") as fh:
        fh.write(struct.pack("<Q", len(h)) + h + b"".join(blobs))


def graph(w):
    inits = [numpy_helper.from_array(v, k) for k, v in w.items()]
    inits += [numpy_helper.from_array(np.array([1], np.int64), "axis1"),
              numpy_helper.from_array(np.array([2], np.int64), "axis2")]
    nodes = [
        helper.make_node("Flatten", ["pixels"], ["flat"], axis=1),
        helper.make_node("MatMul", ["flat", "pixel.weight"], ["from_pixels"]),
        helper.make_node("Gather", ["embed.weight", "input_ids"], ["emb"]),
        helper.make_node("Cast", ["attention_mask"], ["maskf"], to=TensorProto.FLOAT),
        helper.make_node("Unsqueeze", ["maskf", "axis2"], ["mask3"]),
        helper.make_node("Mul", ["emb", "mask3"], ["masked"]),
        helper.make_node("ReduceSum", ["masked", "axis1"], ["summed"], keepdims=0),
        helper.make_node("ReduceSum", ["maskf", "axis1"], ["count"], keepdims=1),
        helper.make_node("Div", ["summed", "count"], ["pooled"]),
        helper.make_node("MatMul", ["pooled", "text.weight"], ["from_text"]),
        helper.make_node("Add", ["from_pixels", "from_text"], ["both"]),
        helper.make_node("Add", ["both", "head.bias"], ["logits"]),
    ]
    g = helper.make_graph(
        nodes, "multimodal",
        [helper.make_tensor_value_info("pixels", TensorProto.FLOAT, ["batch", 1, 2, 2]),
         helper.make_tensor_value_info("input_ids", TensorProto.INT64, ["batch", L]),
         helper.make_tensor_value_info("attention_mask", TensorProto.INT64, ["batch", L])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["batch", C])],
        inits,
    )
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)], producer_name="make_multimodal.py")
    m.ir_version = 8
    onnx.checker.check_model(m)
    return m


os.makedirs(OUT, exist_ok=True)
base = weights(1.0)
tasks = {"base": base, "a": weights(0.3, base), "b": weights(0.3, base)}
for name, w in tasks.items():
    write_safetensors(os.path.join(OUT, name + ".safetensors"), w)
onnx.save(graph(base), os.path.join(OUT, "graph.onnx"))
print("wrote", OUT)
