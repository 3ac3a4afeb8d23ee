#!/usr/bin/python3
"""Regenerate Merge Studio's embedded demo zoo `public/zoo/digits-8/`.

A tiny vision transformer is pre-trained on a pretext task (rotation
prediction on augmented 8x8 digits), then fine-tuned (all weights, a new head
per task) on eight tasks built from scikit-learn's bundled handwritten digits.
Every model is exported as ONNX and safetensors, each task gets a labeled
evaluation set, and reference accuracies of the individual models and of four
merging methods (weight averaging, Task Arithmetic, TIES-Merging, EMR-Merging,
exactly as specified in docs/architecture.md#emr-semantics) are written to manifest.json and README.md.

Needs only Debian packages:
    apt-get install -y python3-torch python3-sklearn python3-onnx
Run from anywhere:
    /usr/bin/python3 tools/zoo/make_digits8.py            # writes public/zoo/digits-8/
    /usr/bin/python3 tools/zoo/make_digits8.py --no-export # train + report only

Deterministic: fixed seeds, torch.use_deterministic_algorithms(True), one
intra-op thread, no DataLoader workers. See public/zoo/digits-8/README.md.
"""

import argparse
import copy
import io
import json
import math
import os
import platform
import struct
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
SCRIPT_REL = "tools/zoo/make_digits8.py"

# ---------------------------------------------------------------------------
# Settings (everything that influences the outputs lives here)
# ---------------------------------------------------------------------------
CONFIG = {
    "seed": 20240517,
    "threads": 1,
    "holdout": 300,  # original digit indices held out for evaluation of everything
    "model": {"patch": 2, "dim": 64, "depth": 4, "heads": 4, "mlp": 128},
    "tasks": {"noise_sigma": 0.3, "shift_max": 1},
    "pretext": {
        "epochs": 120,
        "repeats": 4,  # copies of each training digit per epoch (fresh augmentation each)
        "batch": 128,
        "lr": 2e-3,
        "weight_decay": 0.05,
        "warmup_frac": 0.05,
        # augmentation probabilities: flip and shift before the rotation, invert and noise after it
        "aug": {"flip": 0.5, "shift": 0.5, "invert": 0.25, "noise": 0.25},
    },
    "finetune": {
        "probe_epochs": 10,  # head only (backbone frozen), before full fine-tuning
        "probe_lr": 1e-2,
        "epochs": 15,
        "batch": 64,
        "lr": 5e-4,
        "weight_decay": 0.0,
        "l2sp": 0.0,  # weight decay towards the base (L2-SP) on backbone weights
        "warmup_frac": 0.1,
    },
    "merge": {"ta_lambda": 0.3, "ties_k": 0.2, "ties_lambda": 1.0},
    "opset": 17,
}

TASKS = [
    ("plain", "Plain digits", "The digits as they are; 10 classes.", [str(i) for i in range(10)]),
    ("rotated", "Rotated 90°", "Each digit rotated 90° counter-clockwise (numpy.rot90, k=1); 10 classes.",
     [str(i) for i in range(10)]),
    ("mirrored", "Mirrored", "Each digit flipped left-right (horizontal mirror); 10 classes.",
     [str(i) for i in range(10)]),
    ("inverted", "Inverted", "Intensities inverted, x -> 1 - x (dark digit on a bright background); 10 classes.",
     [str(i) for i in range(10)]),
    ("parity", "Parity", "Plain digits, label = even or odd; 2 classes.", ["even", "odd"]),
    ("ge5", "At least five", "Plain digits, label = digit >= 5; 2 classes.", ["0-4", "5-9"]),
    ("noisy", "Noisy", None, [str(i) for i in range(10)]),
    ("shifted", "Shifted", None, [str(i) for i in range(10)]),
]


def task_description(tid, cfg):
    if tid == "noisy":
        return ("Gaussian noise (sigma %g, fixed seed) added to the scaled digit, then clipped to [0, 1]; "
                "10 classes." % cfg["tasks"]["noise_sigma"])
    if tid == "shifted":
        m = cfg["tasks"]["shift_max"]
        return ("Each digit translated by (dy, dx), both drawn from -%d..%d (fixed seed) and not both 0, "
                "with zero fill; 10 classes." % (m, m))
    return {t[0]: t[2] for t in TASKS}[tid]


# ---------------------------------------------------------------------------
# Model: a small pre-norm ViT with hand-written attention (clean ONNX export)
# ---------------------------------------------------------------------------
class Attention(nn.Module):
    def __init__(self, dim, heads, tokens):
        super().__init__()
        self.heads, self.dim, self.tokens = heads, dim, tokens
        self.head_dim = dim // heads
        self.scale = self.head_dim ** -0.5
        self.qkv = nn.Linear(dim, 3 * dim)
        self.proj = nn.Linear(dim, dim)

    def forward(self, x):
        t, h, hd = self.tokens, self.heads, self.head_dim
        qkv = self.qkv(x).reshape(-1, t, 3, h, hd).permute(2, 0, 3, 1, 4)  # 3,B,H,T,hd
        q, k, v = qkv[0], qkv[1], qkv[2]
        att = torch.matmul(q * self.scale, k.transpose(-2, -1))
        att = torch.softmax(att, dim=-1)
        out = torch.matmul(att, v).transpose(1, 2).reshape(-1, t, self.dim)
        return self.proj(out)


class Mlp(nn.Module):
    def __init__(self, dim, hidden):
        super().__init__()
        self.fc1 = nn.Linear(dim, hidden)
        self.fc2 = nn.Linear(hidden, dim)

    def forward(self, x):
        return self.fc2(F.gelu(self.fc1(x)))


class Block(nn.Module):
    def __init__(self, dim, heads, mlp, tokens):
        super().__init__()
        self.norm1 = nn.LayerNorm(dim)
        self.attn = Attention(dim, heads, tokens)
        self.norm2 = nn.LayerNorm(dim)
        self.mlp = Mlp(dim, mlp)

    def forward(self, x):
        x = x + self.attn(self.norm1(x))
        return x + self.mlp(self.norm2(x))


class TinyViT(nn.Module):
    def __init__(self, patch, dim, depth, heads, mlp, classes):
        super().__init__()
        n = (8 // patch) ** 2
        self.patch_embed = nn.Conv2d(1, dim, kernel_size=patch, stride=patch)
        self.cls_token = nn.Parameter(torch.zeros(1, 1, dim))
        self.pos_embed = nn.Parameter(torch.zeros(1, n + 1, dim))
        self.blocks = nn.ModuleList([Block(dim, heads, mlp, n + 1) for _ in range(depth)])
        self.norm = nn.LayerNorm(dim)
        self.head = nn.Linear(dim, classes)
        nn.init.normal_(self.pos_embed, std=0.02)
        nn.init.normal_(self.cls_token, std=0.02)

    def forward(self, pixels):
        x = self.patch_embed(pixels).flatten(2).transpose(1, 2)  # B,N,D
        x = torch.cat([self.cls_token.expand(x.shape[0], -1, -1), x], dim=1) + self.pos_embed
        for blk in self.blocks:
            x = blk(x)
        return self.head(self.norm(x)[:, 0])


def make_model(cfg, classes):
    m = cfg["model"]
    return TinyViT(m["patch"], m["dim"], m["depth"], m["heads"], m["mlp"], classes)


# ---------------------------------------------------------------------------
# Data
# ---------------------------------------------------------------------------
def load_data(cfg):
    from sklearn.datasets import load_digits
    d = load_digits()
    images = (d.images.astype(np.float32) / np.float32(16.0))  # 0..16 -> 0..1
    labels = d.target.astype(np.int64)
    rng = np.random.RandomState(cfg["seed"])
    perm = rng.permutation(len(labels))
    eval_idx = np.sort(perm[: cfg["holdout"]])
    train_idx = np.sort(perm[cfg["holdout"]:])
    return images, labels, train_idx, eval_idx


def shift_images(x, dy, dx):
    """Translate each 8x8 image x[i] by (dy[i], dx[i]) with zero fill."""
    out = np.zeros_like(x)
    for i in range(len(x)):
        a, b = int(dy[i]), int(dx[i])
        src = x[i]
        ys, yd = (slice(0, 8 - a), slice(a, 8)) if a >= 0 else (slice(-a, 8), slice(0, 8 + a))
        xs, xd = (slice(0, 8 - b), slice(b, 8)) if b >= 0 else (slice(-b, 8), slice(0, 8 + b))
        out[i][yd, xd] = src[ys, xs]
    return out


def random_shifts(rng, n, m):
    dy = rng.randint(-m, m + 1, size=n)
    dx = rng.randint(-m, m + 1, size=n)
    zero = (dy == 0) & (dx == 0)
    while zero.any():
        dy[zero] = rng.randint(-m, m + 1, size=zero.sum())
        dx[zero] = rng.randint(-m, m + 1, size=zero.sum())
        zero = (dy == 0) & (dx == 0)
    return dy, dx


def task_transform(tid, x, y, rng, cfg):
    """x: [n,8,8] float32 in [0,1] (bright digit on dark), y: [n] int64 digit."""
    if tid == "plain":
        return x.copy(), y.copy()
    if tid == "rotated":
        return np.ascontiguousarray(np.rot90(x, k=1, axes=(1, 2))), y.copy()
    if tid == "mirrored":
        return np.ascontiguousarray(x[:, :, ::-1]), y.copy()
    if tid == "inverted":
        return (np.float32(1.0) - x).astype(np.float32), y.copy()
    if tid == "parity":
        return x.copy(), (y % 2).astype(np.int64)
    if tid == "ge5":
        return x.copy(), (y >= 5).astype(np.int64)
    if tid == "noisy":
        noise = rng.normal(0.0, cfg["tasks"]["noise_sigma"], size=x.shape).astype(np.float32)
        return np.clip(x + noise, 0.0, 1.0).astype(np.float32), y.copy()
    if tid == "shifted":
        dy, dx = random_shifts(rng, len(x), cfg["tasks"]["shift_max"])
        return shift_images(x, dy, dx), y.copy()
    raise ValueError(tid)


def pretext_epoch(x, rng, cfg):
    """Augmented rotation-prediction batch: returns ([n,1,8,8], rotation labels 0..3)."""
    p = cfg["pretext"]
    a = p["aug"]
    x = np.concatenate([x] * p["repeats"], axis=0).copy()
    n = len(x)
    flip = rng.rand(n) < a["flip"]
    x[flip] = x[flip][:, :, ::-1]
    sh = rng.rand(n) < a["shift"]
    dy, dx = random_shifts(rng, n, cfg["tasks"]["shift_max"])
    x[sh] = shift_images(x[sh], dy[sh], dx[sh])
    k = rng.randint(0, 4, size=n)
    for r in range(1, 4):
        x[k == r] = np.rot90(x[k == r], k=r, axes=(1, 2))
    inv = rng.rand(n) < a["invert"]
    x[inv] = 1.0 - x[inv]
    nz = rng.rand(n) < a["noise"]
    sig = rng.uniform(0.0, cfg["tasks"]["noise_sigma"], size=n).astype(np.float32)
    noise = rng.normal(0.0, 1.0, size=x.shape).astype(np.float32) * sig[:, None, None]
    x[nz] = np.clip(x[nz] + noise[nz], 0.0, 1.0)
    return torch.from_numpy(x[:, None].astype(np.float32)), torch.from_numpy(k.astype(np.int64))


# ---------------------------------------------------------------------------
# Training
# ---------------------------------------------------------------------------
def lr_at(step, total, base, warmup_frac):
    w = max(1, int(total * warmup_frac))
    if step < w:
        return base * (step + 1) / w
    return base * 0.5 * (1.0 + math.cos(math.pi * (step - w) / max(1, total - w)))


def train(model, params, epoch_data, epochs, batch, lr, wd, warmup_frac, seed, anchor=None, l2sp=0.0):
    """epoch_data(e) -> (X, y). anchor: {param: tensor} for weight decay towards the base."""
    opt = torch.optim.AdamW(params, lr=lr, weight_decay=wd)
    g = torch.Generator().manual_seed(seed)
    X, y = epoch_data(0)
    steps_per = math.ceil(len(X) / batch)
    total, step = epochs * steps_per, 0
    model.train()
    for e in range(epochs):
        if e > 0:
            X, y = epoch_data(e)
        perm = torch.randperm(len(X), generator=g)
        tot_loss = 0.0
        for i in range(steps_per):
            idx = perm[i * batch:(i + 1) * batch]
            for grp in opt.param_groups:
                grp["lr"] = lr_at(step, total, lr, warmup_frac)
            loss = F.cross_entropy(model(X[idx]), y[idx])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            if anchor is not None and l2sp > 0:
                with torch.no_grad():
                    for p, p0 in anchor:
                        p.grad.add_(p.detach() - p0, alpha=l2sp)
            opt.step()
            tot_loss += float(loss) * len(idx)
            step += 1
    model.eval()
    return tot_loss / len(X)


@torch.no_grad()
def accuracy(model, X, y):
    model.eval()
    return float((model(X).argmax(1) == y).float().mean())


# ---------------------------------------------------------------------------
# Merging (plain torch, float32, exactly the formulas of docs/architecture.md#emr-semantics)
# ---------------------------------------------------------------------------
def shared_names(base, tasks):
    return [n for n, v in base.items() if all(n in t and t[n].shape == v.shape for t in tasks)]


def merge_avg(base, tasks, names):
    return {n: torch.stack([t[n] for t in tasks]).mean(0) for n in names}


def merge_ta(base, tasks, names, lam):
    return {n: base[n] + lam * torch.stack([t[n] - base[n] for t in tasks]).sum(0) for n in names}


def merge_ties(base, tasks, names, k, lam):
    """TIES-Merging as in its reference implementation (ties_merging_utils.py).

    Trim: over the WHOLE model (all shared tensors flattened and concatenated),
    d entries per task, keep = floor(d*k); threshold = the (d - keep)-th smallest
    |tau_t| (torch.kthvalue, 1-based); entries with |tau_t| >= threshold are kept
    (so keep+1 entries when there are no ties, more when values tie).
    Elect: sign(sum_t trimmed); where that sum is exactly 0, the sign of the sum of
    all elected signs (the 'majority').  Disjoint mean: mean over tasks of trimmed
    entries with the elected sign (strictly: > 0 for +, < 0 for -), 0 where none.
    """
    tv = torch.stack([torch.cat([(t[n] - base[n]).reshape(-1) for n in names]) for t in tasks])  # T,d
    d = tv.shape[1]
    keep = int(d * k)
    kth = d - keep
    thr = tv.abs().kthvalue(kth, dim=1, keepdim=True).values
    trimmed = tv * (tv.abs() >= thr)
    sign = torch.sign(trimmed.sum(0))
    majority = torch.sign(sign.sum())
    sign[sign == 0] = majority
    sel = torch.where(sign.unsqueeze(0) > 0, trimmed > 0, trimmed < 0)
    agg = (trimmed * sel).sum(0) / torch.clamp(sel.sum(0).float(), min=1.0)
    out, off = {}, 0
    for n in names:
        c = base[n].numel()
        out[n] = base[n] + lam * agg[off:off + c].reshape(base[n].shape)
        off += c
    return out


def merge_emr(base, tasks, names):
    T = len(tasks)
    num = [torch.zeros((), dtype=torch.float32) for _ in range(T)]
    den = [torch.zeros((), dtype=torch.float32) for _ in range(T)]
    uni, masks = {}, {}
    for n in names:
        tv = torch.stack([t[n] - base[n] for t in tasks])
        s = torch.where(tv.mean(0) > 0, torch.ones((), dtype=torch.float32), -torch.ones((), dtype=torch.float32))
        agree = tv * s > 0
        eps = (tv.abs() * agree).amax(0)
        tu = s * eps
        uni[n], masks[n] = tu, agree
        for t in range(T):
            num[t] = num[t] + tv[t].abs().mean()
            den[t] = den[t] + (agree[t] * tu).abs().mean()
    lambdas = [float(num[t] / den[t]) if float(den[t]) > 0 else 1.0 for t in range(T)]
    models = [{n: base[n] + lambdas[t] * (masks[n][t] * uni[n]) for n in names} for t in range(T)]
    return models, lambdas


# ---------------------------------------------------------------------------
# Writers / verification
# ---------------------------------------------------------------------------
def write_safetensors(path, tensors, metadata=None):
    """Minimal safetensors writer: tensors {name: torch.Tensor (f32 or i64)}, names sorted."""
    dt = {torch.float32: "F32", torch.int64: "I64"}
    header, blobs, off = {}, [], 0
    for name in sorted(tensors):
        t = tensors[name].detach().contiguous().cpu()
        b = t.numpy().astype(t.numpy().dtype.newbyteorder("<"), copy=False).tobytes()
        header[name] = {"dtype": dt[t.dtype], "shape": list(t.shape), "data_offsets": [off, off + len(b)]}
        blobs.append(b)
        off += len(b)
    if metadata:
        header["__metadata__"] = {k: str(v) for k, v in metadata.items()}
    h = json.dumps(header, separators=(",", ":"), sort_keys=False).encode("utf-8")
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)


def read_safetensors(path):
    with open(path, "rb") as f:
        raw = f.read()
    n = struct.unpack("<Q", raw[:8])[0]
    header = json.loads(raw[8:8 + n])
    out = {}
    npdt = {"F32": np.float32, "I64": np.int64}
    for name, h in header.items():
        if name == "__metadata__":
            continue
        a, b = h["data_offsets"]
        out[name] = np.frombuffer(raw[8 + n + a:8 + n + b], dtype=npdt[h["dtype"]]).reshape(h["shape"])
    return out, header.get("__metadata__", {})


def export_onnx(model, path, metadata, opset):
    import onnx
    from onnx import numpy_helper
    model.eval()
    buf = io.BytesIO()
    torch.onnx.export(
        model, (torch.zeros(1, 1, 8, 8),), buf,
        export_params=True, opset_version=opset, do_constant_folding=False,
        input_names=["pixels"], output_names=["logits"],
        dynamic_axes={"pixels": {0: "batch"}, "logits": {0: "batch"}},
        keep_initializers_as_inputs=False,
    )
    m = onnx.load_from_string(buf.getvalue())
    # deterministic, self-describing header fields
    m.producer_name = "pytorch"
    m.producer_version = torch.__version__
    m.doc_string = ""
    m.graph.doc_string = ""
    m.graph.name = "digits8_tinyvit"
    for node in m.graph.node:
        node.doc_string = ""
    del m.metadata_props[:]
    for k, v in metadata.items():
        e = m.metadata_props.add()
        e.key, e.value = k, str(v)
    onnx.checker.check_model(m, full_check=True)
    # every state-dict tensor must be an initializer with the same name and shape
    inits = {i.name: numpy_helper.to_array(i) for i in m.graph.initializer}
    sd = model.state_dict()
    for name, t in sd.items():
        assert name in inits, "state-dict tensor %s is not an ONNX initializer (have %s)" % (name, sorted(inits))
        assert list(inits[name].shape) == list(t.shape), "shape mismatch for %s" % name
        assert np.array_equal(inits[name], t.numpy()), "value mismatch for %s" % name
    extra = sorted(set(inits) - set(sd))
    assert not extra, "ONNX has initializers that are not state-dict tensors: %s" % extra
    assert [i.name for i in m.graph.input] == ["pixels"], [i.name for i in m.graph.input]
    assert [o.name for o in m.graph.output] == ["logits"]
    data = m.SerializeToString()
    with open(path, "wb") as f:
        f.write(data)
    return m


# --- a tiny numpy interpreter for the ops this model exports to, to check the ONNX graph's numerics
def run_onnx_numpy(m, x):
    from onnx import numpy_helper, helper
    env = {i.name: numpy_helper.to_array(i) for i in m.graph.initializer}
    env[m.graph.input[0].name] = x
    for node in m.graph.node:
        a = {at.name: helper.get_attribute_value(at) for at in node.attribute}
        i = [env[n] if n else None for n in node.input]
        op = node.op_type
        if op == "Constant":
            r = numpy_helper.to_array(a["value"])
        elif op == "Conv":
            w, b = i[1], i[2]
            s = a.get("strides", [1, 1])[0]
            kk = w.shape[2]
            B, C, H, W = i[0].shape
            oh, ow = (H - kk) // s + 1, (W - kk) // s + 1
            cols = np.stack([i[0][:, :, y * s:y * s + kk, z * s:z * s + kk].reshape(B, -1)
                             for y in range(oh) for z in range(ow)], axis=2)  # B, C*k*k, L
            r = (np.einsum("ok,bkl->bol", w.reshape(w.shape[0], -1), cols) + b[None, :, None]).reshape(B, -1, oh, ow)
        elif op == "Shape":
            r = np.array(i[0].shape, dtype=np.int64)
        elif op == "Gather":
            r = np.take(i[0], i[1], axis=a.get("axis", 0))
        elif op == "Unsqueeze":
            r = i[0]
            for ax in sorted(int(v) for v in i[1]):
                r = np.expand_dims(r, ax)
        elif op == "Concat":
            r = np.concatenate(i, axis=a["axis"])
        elif op == "Expand":
            r = i[0] * np.ones(tuple(int(v) for v in i[1]), dtype=i[0].dtype)
        elif op == "ConstantOfShape":
            v = numpy_helper.to_array(a["value"]) if "value" in a else np.zeros(1, np.float32)
            r = np.full(tuple(int(s) for s in i[0]), v.reshape(-1)[0], dtype=v.dtype)
        elif op == "Equal":
            r = np.equal(i[0], i[1])
        elif op == "Where":
            r = np.where(i[0], i[1], i[2])
        elif op == "Mul":
            r = i[0] * i[1]
        elif op == "Add":
            r = i[0] + i[1]
        elif op == "Sub":
            r = i[0] - i[1]
        elif op == "Div":
            r = i[0] / i[1]
        elif op == "Pow":
            r = np.power(i[0], i[1])
        elif op == "Sqrt":
            r = np.sqrt(i[0])
        elif op == "Erf":
            import math as _m
            r = np.vectorize(_m.erf, otypes=[np.float64])(i[0]).astype(i[0].dtype)
        elif op == "ReduceMean":
            r = i[0].mean(axis=tuple(a["axes"]), keepdims=bool(a.get("keepdims", 1)))
        elif op == "Reshape":
            shp = [int(v) for v in i[1]]
            shp = [i[0].shape[j] if v == 0 else v for j, v in enumerate(shp)]
            r = i[0].reshape(shp)
        elif op == "Flatten":
            ax = a.get("axis", 1)
            r = i[0].reshape(int(np.prod(i[0].shape[:ax])), -1)
        elif op == "Transpose":
            r = np.transpose(i[0], a.get("perm"))
        elif op == "MatMul":
            r = np.matmul(i[0], i[1])
        elif op == "Gemm":
            A = i[0].T if a.get("transA", 0) else i[0]
            Bm = i[1].T if a.get("transB", 0) else i[1]
            r = a.get("alpha", 1.0) * (A @ Bm) + (a.get("beta", 1.0) * i[2] if len(i) > 2 else 0)
        elif op == "Softmax":
            z = i[0] - i[0].max(axis=a.get("axis", -1), keepdims=True)
            e = np.exp(z)
            r = e / e.sum(axis=a.get("axis", -1), keepdims=True)
        elif op == "LayerNormalization":
            ax = a.get("axis", -1)
            mu = i[0].mean(axis=ax, keepdims=True)
            var = ((i[0] - mu) ** 2).mean(axis=ax, keepdims=True)
            r = (i[0] - mu) / np.sqrt(var + a.get("epsilon", 1e-5)) * i[1] + i[2]
        elif op == "Slice":
            starts, ends = i[1], i[2]
            axes = i[3] if len(i) > 3 and i[3] is not None else range(len(starts))
            steps = i[4] if len(i) > 4 and i[4] is not None else [1] * len(starts)
            sl = [slice(None)] * i[0].ndim
            for s_, e_, ax_, st_ in zip(starts, ends, axes, steps):
                sl[int(ax_)] = slice(int(s_), int(min(e_, 2 ** 62)) if e_ < 2 ** 62 else None, int(st_))
            r = i[0][tuple(sl)]
        else:
            raise NotImplementedError("numpy ONNX check: op %s" % op)
        outs = r if isinstance(r, tuple) else (r,)
        for name, val in zip(node.output, outs):
            env[name] = np.asarray(val)
    return env[m.graph.output[0].name]


# ---------------------------------------------------------------------------
# Main
# ---------------------------------------------------------------------------
def set_path(cfg, key, value):
    *path, last = key.split(".")
    d = cfg
    for p in path:
        d = d[p]
    d[last] = json.loads(value)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default=os.path.join(REPO, "public", "zoo", "digits-8"))
    ap.add_argument("--no-export", action="store_true", help="train and report, write nothing")
    ap.add_argument("--base-cache", metavar="DIR",
                    help="experiments only: reuse a pre-trained base from DIR (keyed by the settings it depends on)")
    ap.add_argument("--set", action="append", default=[], metavar="KEY=JSON",
                    help="override a setting, e.g. --set finetune.lr=1e-4 (for experiments)")
    args = ap.parse_args()
    cfg = copy.deepcopy(CONFIG)
    for kv in args.set:
        k, v = kv.split("=", 1)
        set_path(cfg, k, v)

    t_start = time.time()
    torch.set_num_threads(cfg["threads"])
    torch.set_num_interop_threads(1)
    torch.use_deterministic_algorithms(True)
    torch.manual_seed(cfg["seed"])
    np.random.seed(cfg["seed"])

    images, labels, train_idx, eval_idx = load_data(cfg)
    xtr, ytr = images[train_idx], labels[train_idx]
    xev, yev = images[eval_idx], labels[eval_idx]
    print("digits: %d train, %d held out for evaluation" % (len(train_idx), len(eval_idx)), flush=True)

    # ---- pretext: rotation prediction on augmented training digits
    p = cfg["pretext"]
    torch.manual_seed(cfg["seed"] + 1)
    base = make_model(cfg, 4)
    nparams = sum(v.numel() for v in base.state_dict().values())
    print("model: %d parameters (%.1f kB fp32)" % (nparams, nparams * 4 / 1024), flush=True)

    def pre_data(e):
        return pretext_epoch(xtr, np.random.RandomState(cfg["seed"] + 1000 + e), cfg)

    t0 = time.time()
    cache = None
    if args.base_cache:
        import hashlib
        key = json.dumps({k: cfg[k] for k in ["seed", "threads", "holdout", "model", "tasks", "pretext"]},
                         sort_keys=True)
        cache = os.path.join(args.base_cache, "base-%s.pt" % hashlib.sha256(key.encode()).hexdigest()[:16])
    if cache and os.path.exists(cache):
        base.load_state_dict(torch.load(cache))
        loss = float("nan")
    else:
        loss = train(base, list(base.parameters()), pre_data, p["epochs"], p["batch"], p["lr"],
                     p["weight_decay"], p["warmup_frac"], cfg["seed"] + 2)
        if cache:
            os.makedirs(args.base_cache, exist_ok=True)
            torch.save(base.state_dict(), cache)
    # pretext accuracy on held-out digits (same augmentation distribution, fixed seed)
    pxe, pye = pretext_epoch(xev, np.random.RandomState(cfg["seed"] + 999), dict(cfg, pretext=dict(p, repeats=1)))
    pcx, pcy = pretext_epoch(xev, np.random.RandomState(cfg["seed"] + 998),
                             dict(cfg, pretext=dict(p, repeats=1, aug={k: 0.0 for k in p["aug"]})))
    pre_acc, pre_acc_clean = accuracy(base, pxe, pye), accuracy(base, pcx, pcy)
    print("pretext: loss %.4f, held-out rotation acc %.4f (augmented) %.4f (clean), %.0fs"
          % (loss, pre_acc, pre_acc_clean, time.time() - t0), flush=True)
    base_sd = {k: v.detach().clone() for k, v in base.state_dict().items()}

    # ---- per task data
    evals, train_fns = {}, {}
    for ti, (tid, *_rest) in enumerate(TASKS):
        ex, ey = task_transform(tid, xev, yev, np.random.RandomState(cfg["seed"] + 500 + ti), cfg)
        evals[tid] = (torch.from_numpy(ex[:, None].copy()), torch.from_numpy(ey))

        def fn(e, tid=tid, ti=ti):
            x, y = task_transform(tid, xtr, ytr, np.random.RandomState(cfg["seed"] + 10000 * (ti + 1) + e), cfg)
            return torch.from_numpy(x[:, None].copy()), torch.from_numpy(y)
        train_fns[tid] = fn

    # ---- fine-tune each task: head probe, then all weights
    f = cfg["finetune"]
    task_sds, individual, probe_acc = [], {}, {}
    for ti, (tid, title, _d, classes) in enumerate(TASKS):
        t0 = time.time()
        torch.manual_seed(cfg["seed"] + 100 + ti)
        model = make_model(cfg, len(classes))
        sd = {k: v.clone() for k, v in base_sd.items() if not k.startswith("head.")}
        sd["head.weight"] = torch.zeros(len(classes), cfg["model"]["dim"])
        sd["head.bias"] = torch.zeros(len(classes))
        model.load_state_dict(sd)
        if f["probe_epochs"] > 0:
            for n_, p_ in model.named_parameters():
                p_.requires_grad_(n_.startswith("head."))
            train(model, list(model.head.parameters()), train_fns[tid], f["probe_epochs"], f["batch"],
                  f["probe_lr"], 0.0, 0.0, cfg["seed"] + 200 + ti)
            for p_ in model.parameters():
                p_.requires_grad_(True)
        probe_acc[tid] = accuracy(model, *evals[tid])
        anchor = [(p_, base_sd[n_]) for n_, p_ in model.named_parameters() if not n_.startswith("head.")]
        train(model, list(model.parameters()), train_fns[tid], f["epochs"], f["batch"], f["lr"],
              f["weight_decay"], f["warmup_frac"], cfg["seed"] + 300 + ti, anchor=anchor, l2sp=f["l2sp"])
        individual[tid] = accuracy(model, *evals[tid])
        task_sds.append({k: v.detach().clone() for k, v in model.state_dict().items()})
        print("task %-9s probe %.4f  fine-tuned %.4f  (%.0fs)" % (tid, probe_acc[tid], individual[tid],
                                                                 time.time() - t0), flush=True)

    # ---- reference merges
    names = shared_names(base_sd, task_sds)
    assert "head.weight" not in names and "head.bias" not in names
    tv_norm = math.sqrt(sum(float(((t[n] - base_sd[n]) ** 2).sum()) for t in task_sds for n in names) / len(task_sds))
    w_norm = math.sqrt(sum(float((base_sd[n] ** 2).sum()) for n in names))
    print("mean |tau| / |theta0| (L2, shared): %.4f" % (tv_norm / w_norm), flush=True)
    mc = cfg["merge"]
    merged = {
        "avg": [merge_avg(base_sd, task_sds, names)] * len(TASKS),
        "ta": [merge_ta(base_sd, task_sds, names, mc["ta_lambda"])] * len(TASKS),
        "ties": [merge_ties(base_sd, task_sds, names, mc["ties_k"], mc["ties_lambda"])] * len(TASKS),
    }
    merged["emr"], emr_lambdas = merge_emr(base_sd, task_sds, names)
    merged["pretrained"] = [{n: base_sd[n] for n in names}] * len(TASKS)
    results = {}
    for meth, sds in merged.items():
        results[meth] = {}
        for ti, (tid, _t, _d, classes) in enumerate(TASKS):
            model = make_model(cfg, len(classes))
            sd = dict(task_sds[ti])
            sd.update(sds[ti])
            model.load_state_dict(sd)
            results[meth][tid] = accuracy(model, *evals[tid])
    ind_avg = float(np.mean([individual[t[0]] for t in TASKS]))

    def avg_of(d):
        return float(np.mean([d[t[0]] for t in TASKS]))

    print("%-10s %s   avg   norm" % ("", " ".join("%8s" % t[0] for t in TASKS)))
    print("%-10s %s %.4f" % ("individual", " ".join("%8.4f" % individual[t[0]] for t in TASKS), ind_avg))
    for meth in ["pretrained", "avg", "ta", "ties", "emr"]:
        r = results[meth]
        print("%-10s %s %.4f %.4f" % (meth, " ".join("%8.4f" % r[t[0]] for t in TASKS), avg_of(r),
                                      float(np.mean([r[t[0]] / individual[t[0]] for t in TASKS]))))
    print("EMR lambdas: " + " ".join("%s=%.4f" % (t[0], l) for t, l in zip(TASKS, emr_lambdas)))
    print("train+merge time %.0fs" % (time.time() - t_start), flush=True)
    if args.no_export:
        return

    # ---- export
    import onnx
    import sklearn
    out = args.out
    os.makedirs(os.path.join(out, "eval"), exist_ok=True)
    rnd = lambda v: round(float(v), 6)  # noqa: E731

    def save_model(name, sd, classes, extra):
        model = make_model(cfg, len(classes))
        model.load_state_dict(sd)
        meta = {"zoo": "digits-8", "model": name, "classes": json.dumps(classes), **extra}
        m = export_onnx(model, os.path.join(out, name + ".onnx"), meta, cfg["opset"])
        write_safetensors(os.path.join(out, name + ".safetensors"), model.state_dict(), meta)
        # check the files: safetensors round trip, numpy run of the ONNX graph against torch
        back, _ = read_safetensors(os.path.join(out, name + ".safetensors"))
        assert set(back) == set(sd) and all(np.array_equal(back[k], sd[k].numpy()) for k in sd)
        x = evals["plain"][0][:16]
        with torch.no_grad():
            ref = model(x).numpy()
        got = run_onnx_numpy(m, x.numpy())
        err = float(np.abs(got - ref).max())
        assert got.shape == ref.shape and err < 1e-4, (name, err)
        return err

    errs = {"base": save_model("base", base_sd, ["0°", "90°", "180°", "270°"], {"role": "base"})}
    for ti, (tid, _t, _d, classes) in enumerate(TASKS):
        errs[tid] = save_model(tid, task_sds[ti], classes, {"role": "task"})
        ex, ey = evals[tid]
        write_safetensors(os.path.join(out, "eval", tid + ".safetensors"), {"inputs": ex, "labels": ey},
                          {"task": tid, "classes": json.dumps(classes)})
    print("ONNX numpy check, max |logit diff| vs torch: %.2e" % max(errs.values()))

    tasks_json = []
    for tid, title, _d, classes in TASKS:
        tasks_json.append({
            "id": tid, "title": title, "description": task_description(tid, cfg), "classes": classes,
            "onnx": tid + ".onnx", "safetensors": tid + ".safetensors", "eval": "eval/%s.safetensors" % tid,
            "evalSize": int(len(evals[tid][1])), "individualAccuracy": rnd(individual[tid]),
            "probeAccuracy": rnd(probe_acc[tid]),
        })

    def method_json(meth, params):
        r = results[meth]
        return {"params": params, "accuracy": {t[0]: rnd(r[t[0]]) for t in TASKS}, "average": rnd(avg_of(r)),
                "normalized": {t[0]: rnd(r[t[0]] / individual[t[0]]) for t in TASKS},
                "normalizedAverage": rnd(np.mean([r[t[0]] / individual[t[0]] for t in TASKS]))}

    manifest = {
        "name": "digits-8",
        "description": ("A miniature of the EMR-Merging paper's 8-task vision benchmark: a tiny vision transformer "
                        "(%d parameters) pre-trained on a rotation-prediction pretext task and fine-tuned (all "
                        "weights, a new head per task) on 8 tasks built from scikit-learn's 8x8 handwritten digits."
                        % nparams),
        "input": {
            "name": "pixels", "shape": [None, 1, 8, 8], "dtype": "float32",
            "preprocessing": {
                "source": "sklearn.datasets.load_digits: 8x8 grayscale, integer values 0..16",
                "sourceSize": [8, 8],
                "scale": "x / 16 for the 0..16 digits data; x / 255 for 0..255 grayscale images; result in [0, 1]",
                "polarity": "bright digit (1.0) on a dark background (0.0); invert dark-on-light images (1 - x) "
                            "except for the 'inverted' task, which expects dark digits on a bright background",
                "resize": "downsample any other image to 8x8 (area averaging) before scaling",
                "layout": "NCHW, one channel, row-major, row 0 at the top",
            },
        },
        "output": {"name": "logits", "shape": [None, "classes"], "dtype": "float32"},
        "base": {
            "id": "base", "onnx": "base.onnx", "safetensors": "base.safetensors",
            "classes": ["0°", "90°", "180°", "270°"],
            "pretext": ("Rotation prediction: each training digit rotated by 0/90/180/270 degrees counter-clockwise "
                        "(numpy.rot90), 4-way head. Before the rotation, random augmentations: horizontal flip "
                        "(p=%g), translation by up to %d px with zero fill (p=%g); after it, intensity inversion "
                        "(p=%g) and Gaussian noise with sigma ~ U(0, %g), clipped (p=%g). Labels of the digits are "
                        "never used." % (p["aug"]["flip"], cfg["tasks"]["shift_max"], p["aug"]["shift"],
                                          p["aug"]["invert"], cfg["tasks"]["noise_sigma"], p["aug"]["noise"])),
            "pretextAccuracy": {"augmented": rnd(pre_acc), "clean": rnd(pre_acc_clean)},
        },
        "tasks": tasks_json,
        "reference": {
            "sharedTensors": len(names),
            "sharedParameters": int(sum(base_sd[n].numel() for n in names)),
            "taskSpecific": ["head.weight", "head.bias"],
            "individual": {"accuracy": {t[0]: rnd(individual[t[0]]) for t in TASKS}, "average": rnd(ind_avg)},
            "methods": {
                "pretrained": method_json("pretrained", {"note": "base backbone with each task's own head"}),
                "avg": method_json("avg", {}),
                "ta": method_json("ta", {"lambda": mc["ta_lambda"]}),
                "ties": method_json("ties", {
                    "k": mc["ties_k"], "lambda": mc["ties_lambda"],
                    "trim": "over all shared tensors flattened together, per task: keep = floor(d*k), "
                            "threshold = (d - keep)-th smallest |tau| (torch.kthvalue, 1-based), keep |tau| >= "
                            "threshold (as the TIES reference implementation)",
                    "elect": "sign(sum of trimmed); exactly 0 -> sign of the sum of all elected signs (majority)",
                    "mean": "disjoint mean of trimmed entries strictly agreeing with the elected sign; 0 where none"}),
                "emr": dict(method_json("emr", {}), lambdas={t[0]: rnd(l) for t, l in zip(TASKS, emr_lambdas)}),
            },
            "taskVectorRelativeNorm": rnd(tv_norm / w_norm),
        },
        "training": {
            "seed": cfg["seed"], "threads": cfg["threads"], "deterministicAlgorithms": True,
            "data": {"dataset": "sklearn.datasets.load_digits (1797 digits)", "scaling": "x / 16",
                     "split": "numpy.random.RandomState(seed).permutation(1797): the first %d indices are held "
                              "out (evaluation of every task and of the pretext), the other %d train the base "
                              "and every task" % (len(eval_idx), len(train_idx)),
                     "heldOutIndices": [int(i) for i in eval_idx]},
            "model": dict(cfg["model"], parameters=nparams,
                          layout="pre-norm ViT: Conv2d patch embedding, class token, learned position embedding, "
                                 "blocks of LayerNorm->MHSA (qkv Linear, matmul, softmax, proj Linear) and "
                                 "LayerNorm->MLP (Linear, GELU, Linear), final LayerNorm, Linear head on the class token"),
            "tasks": cfg["tasks"],
            "pretext": cfg["pretext"],
            "finetune": dict(cfg["finetune"], optimizer="AdamW, cosine schedule with linear warmup",
                             head="new head per task, zero-initialised, first trained alone (probe) then all "
                                  "weights together"),
            "merge": cfg["merge"],
        },
        "generator": {
            "script": SCRIPT_REL, "command": "/usr/bin/python3 " + SCRIPT_REL,
            "python": platform.python_version(), "torch": torch.__version__, "numpy": np.__version__,
            "sklearn": sklearn.__version__, "onnx": onnx.__version__, "opset": cfg["opset"],
            "onnxExport": "torch.onnx.export(do_constant_folding=False, export_params=True, "
                          "keep_initializers_as_inputs=False, dynamic batch axis); initializer names == "
                          "state-dict names (asserted)",
        },
    }
    with open(os.path.join(out, "manifest.json"), "w", encoding="utf-8") as fh:
        json.dump(manifest, fh, indent=2, ensure_ascii=False)
        fh.write("\n")
    write_readme(out, cfg, manifest, nparams)
    print("wrote %s in %.0fs" % (out, time.time() - t_start), flush=True)


def write_readme(out, cfg, man, nparams):
    ids = [t["id"] for t in man["tasks"]]
    ref = man["reference"]
    ind = ref["individual"]["accuracy"]
    rows = [("Individual", ind, ref["individual"]["average"], None)]
    labels = {"pretrained": "Pre-trained backbone + task head", "avg": "Weight averaging",
              "ta": "Task Arithmetic (λ=%g)" % cfg["merge"]["ta_lambda"],
              "ties": "TIES-Merging (k=%g, λ=%g)" % (cfg["merge"]["ties_k"], cfg["merge"]["ties_lambda"]),
              "emr": "EMR-Merging"}
    for meth in ["pretrained", "avg", "ta", "ties", "emr"]:
        r = ref["methods"][meth]
        rows.append((labels[meth], r["accuracy"], r["average"], r["normalizedAverage"]))
    table = ["| Method | " + " | ".join(ids) + " | Avg | Normalized |",
             "|---|" + "---:|" * (len(ids) + 2)]
    for name, acc, avg, norm in rows:
        table.append("| %s | %s | **%.1f** | %s |" % (name, " | ".join("%.1f" % (100 * acc[i]) for i in ids),
                                                      100 * avg, "—" if norm is None else "%.1f" % (100 * norm)))
    lam = ref["methods"]["emr"]["lambdas"]
    f, p = cfg["finetune"], cfg["pretext"]
    task_lines = "\n".join("| `%s` | %s | %d | %s |" % (t["id"], t["title"], len(t["classes"]), t["description"])
                           for t in man["tasks"])
    text = README_TEMPLATE.format(
        nparams=nparams, kb=nparams * 4 / 1024, table="\n".join(table), task_lines=task_lines,
        lambdas=", ".join("%s %.3f" % (k, v) for k, v in lam.items()),
        seed=cfg["seed"], holdout=cfg["holdout"], ntrain=1797 - cfg["holdout"], m=cfg["model"],
        p=p, paug=p["aug"], f=f, opset=cfg["opset"], tvnorm=ref["taskVectorRelativeNorm"],
        pre_acc=man["base"]["pretextAccuracy"]["clean"], torch=torch.__version__,
        script=SCRIPT_REL, noise=cfg["tasks"]["noise_sigma"], shift=cfg["tasks"]["shift_max"],
    )
    with open(os.path.join(out, "README.md"), "w", encoding="utf-8") as fh:
        fh.write(text)


README_TEMPLATE = """# digits-8 — the embedded demo model zoo

This folder is what Merge Studio's **Load demo** opens: a miniature of the
EMR-Merging paper's 8-task vision benchmark, small enough to ship with the app.
It is generated by [`{script}`](../../../{script}); CI never trains, it uses
the committed files. Do not edit these files by hand.

* `base.onnx`, `base.safetensors` — a tiny vision transformer ({nparams}
  parameters, {kb:.0f} kB in fp32) pre-trained on a pretext task: predicting
  the rotation (0°/90°/180°/270°) of augmented training digits (4-way head,
  held-out rotation accuracy {pre_acc:.3f}). Digit labels are never used.
* `<task>.onnx`, `<task>.safetensors` — the base fine-tuned on each task, all
  weights trainable, with a head of its own (`head.weight`, `head.bias`; 10 or
  2 classes, never 4, so heads are never shared with the base and never merged).
* `eval/<task>.safetensors` — the task's labeled evaluation set: `inputs` F32
  `[300,1,8,8]`, `labels` I64 `[300]`, built from {holdout} digits that no model
  (base or task) ever trained on.
* `manifest.json` — inputs, tasks, classes, file names, settings and the
  reference accuracies below.

## Models and inputs
Input `pixels` float32 `[B,1,8,8]`, output `logits` float32 `[B,C]`, ONNX opset
{opset}, dynamic batch axis. Pixels are the 8×8 digits of
`sklearn.datasets.load_digits` (values 0..16) divided by 16, i.e. in [0, 1],
**bright digit on a dark background** (0 = background); a 0..255 grayscale
image is resized to 8×8 and divided by 255 (inverted first if it is dark on
light). Every ONNX initializer has exactly the name and shape of the
safetensors tensor (`do_constant_folding=False`; the script asserts it), so
the two formats hold the same tensors under the same names.

| Task | Title | Classes | Transformation |
|---|---|---:|---|
{task_lines}

## Reference accuracies (held-out evaluation sets, %)
Computed by the generating script with plain torch from the formulas of docs/architecture.md#emr-semantics
(shared tensors = same name and shape in the base and all tasks, i.e. all but
the heads; each task's merged model is evaluated with its own head).
"Normalized" is the mean over tasks of merged / individual accuracy.

{table}

EMR rescalers λ_t: {lambdas}.
Mean task-vector L2 norm relative to the base's shared weights: {tvnorm:.3f}.

TIES tie rule (as in the TIES reference code): over all shared tensors
flattened together (d entries), per task keep = ⌊0.2·d⌋, threshold = the
(d − keep)-th smallest |τ| (`torch.kthvalue`, 1-based), keep entries with
|τ| ≥ threshold; elected sign = sign(Σ trimmed), and where that sum is exactly
0 the sign of the sum of all elected signs; disjoint mean over the trimmed
entries strictly agreeing with the elected sign (0 where none).

## Settings
* Seed {seed}; `torch.use_deterministic_algorithms(True)`, one thread
  (`torch.set_num_threads(1)`), no DataLoader. 1797 digits: a fixed permutation
  (`numpy.random.RandomState({seed})`) holds out {holdout} (evaluation of
  everything, pretext included); {ntrain} train the base and every task.
* Model: patch {m[patch]}×{m[patch]} (Conv2d), dim {m[dim]}, {m[depth]} pre-norm
  blocks, {m[heads]} heads, MLP {m[mlp]} (GELU), class token, learned position
  embedding, final LayerNorm, Linear head.
* Pretext: {p[epochs]} epochs × {p[repeats]} augmented copies of each training
  digit, batch {p[batch]}, AdamW lr {p[lr]:g}, weight decay {p[weight_decay]:g},
  cosine schedule; augmentations flip p={paug[flip]:g}, shift ≤{shift} px
  p={paug[shift]:g}, inversion p={paug[invert]:g}, noise σ~U(0,{noise:g})
  p={paug[noise]:g}.
* Fine-tuning per task: zero-initialised head trained alone for
  {f[probe_epochs]} epochs (lr {f[probe_lr]:g}), then all weights for
  {f[epochs]} epochs, batch {f[batch]}, AdamW lr {f[lr]:g}, weight decay
  {f[weight_decay]:g}, L2 towards the base {f[l2sp]:g}, cosine schedule.
  Noisy and shifted tasks draw fresh noise / shifts every epoch.

## Regenerating
```
apt-get install -y python3-torch python3-sklearn python3-onnx
/usr/bin/python3 {script}
```
(Debian 12: torch {torch}; about 8 minutes on one core — the script uses one
thread.) Experiments:
`--no-export` trains and prints the table without writing anything,
`--set finetune.lr=1e-4` overrides a setting, `--out DIR` writes elsewhere.

Reproducibility: two full runs of the script on the same machine produced
byte-for-byte identical files (sha256 of every file compared). The script
clears the ONNX doc strings and sets the producer, graph name and metadata
fields itself, and writes safetensors with sorted names and a fixed JSON
header, so nothing time- or path-dependent is embedded. Another CPU, torch or
BLAS build may round differently during training and give slightly different
weights and accuracies; the committed files are the reference.
"""


if __name__ == "__main__":
    main()
