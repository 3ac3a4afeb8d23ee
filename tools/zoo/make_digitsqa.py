#!/usr/bin/python3
"""Regenerate Merge Studio's multi-modal demo zoo `public/zoo/digits-qa/`.

A two-input classifier answers yes/no questions about an 8x8 handwritten
digit: the image (`pixels`, as digits-8) and a short question (`input_ids`,
`attention_mask`, a WordPiece tokenizer.json of its own) go through one small
transformer (image patches and question tokens side by side). The base is
pre-trained on a pretext task that uses no digit labels (the image's rotation
and whether the question's words were shuffled); three tasks, one question
family each, fine-tune it fully (all weights, a new head): parity, comparison
with a number, identity. Reference accuracies of the individual models and of
averaging, Task Arithmetic, TIES and EMR-Merging (the formulas of docs/architecture.md#emr-semantics) go into
manifest.json and README.md.

    apt-get install -y python3-torch python3-sklearn python3-onnx
    /usr/bin/python3 tools/zoo/make_digitsqa.py             # writes public/zoo/digits-qa/
    /usr/bin/python3 tools/zoo/make_digitsqa.py --no-export # train + report only
    node tools/zoo/check_words4.mjs public/zoo/digits-qa    # JS tokenizer + ONNX Runtime check
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
import zlib

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

sys.dont_write_bytecode = True  # no __pycache__ beside the scripts
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import make_digits8 as d8  # noqa: E402
import make_words4 as w4  # noqa: E402

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
SCRIPT_REL = "tools/zoo/make_digitsqa.py"
ZOO = "digits-qa"

CONFIG = {
    "seed": 20240517,  # the digits split is digits-8's: the same 300 held-out digits
    "threads": 1,
    "holdout": 300,
    "max_length": 12,
    "model": {"patch": 2, "dim": 48, "depth": 2, "heads": 4, "mlp": 96},
    "questions_per_digit": 8,
    "pretext": {"epochs": 40, "batch": 128, "lr": 2e-3, "weight_decay": 0.05, "warmup_frac": 0.05},
    "finetune": {"probe_epochs": 5, "probe_lr": 1e-2, "epochs": 15, "batch": 64, "lr": 5e-4,
                 "weight_decay": 0.0, "warmup_frac": 0.1},
    "merge": {"ta_lambda": 0.3, "ties_k": 0.2, "ties_lambda": 1.0},
    "images": {"task": "identity", "count": 50, "scale": 4},
    "opset": 17,
}

NUM_WORDS = "zero one two three four five six seven eight nine".split()
PARITY = [("is it even?", "even"), ("is the digit even?", "even"), ("is this an even number?", "even"),
          ("is it odd?", "odd"), ("is the digit odd?", "odd"), ("is this an odd number?", "odd")]
COMPARE = [("is it greater than {n}?", "gt"), ("is it more than {n}?", "gt"), ("is the digit bigger than {n}?", "gt"),
           ("is it less than {n}?", "lt"), ("is the digit smaller than {n}?", "lt"), ("is it below {n}?", "lt")]
IDENTITY = ["is it a {n}?", "is this the digit {n}?", "does it show {n}?", "is the number {n}?"]
TASKS = [
    ("parity", "Even or odd?", "Questions whether the digit is even or odd (6 phrasings); answer no/yes.", PARITY),
    ("compare", "Greater or less?", "Questions whether the digit is greater or less than a number 1-8, written as "
     "a digit or a word (6 phrasings); answer no/yes.", COMPARE),
    ("identity", "Which digit?", "Questions whether the image shows a given digit, written as a digit or a word "
     "(4 phrasings, half of them true); answer no/yes.", IDENTITY),
]
ANSWERS = ["no", "yes"]
PRETEXT_CLASSES = ["%d°%s" % (r, s) for s in ["", " shuffled"] for r in (0, 90, 180, 270)]


def number(rng, n):
    return str(n) if rng.rand() < 0.5 else NUM_WORDS[n]


def question(tid, rng, d):
    """(question, answer 0/1) about digit d."""
    if tid == "parity":
        q, kind = PARITY[rng.randint(len(PARITY))]
        return q, int((d % 2 == 0) == (kind == "even"))
    if tid == "compare":
        while True:
            t, kind = COMPARE[rng.randint(len(COMPARE))]
            y = rng.randint(2)
            ns = [n for n in range(1, 9) if int(d > n if kind == "gt" else d < n) == y]
            if ns:
                return t.format(n=number(rng, ns[rng.randint(len(ns))])), y
    if tid == "identity":
        t = IDENTITY[rng.randint(len(IDENTITY))]
        y = rng.randint(2)
        n = d if y else [k for k in range(10) if k != d][rng.randint(9)]
        return t.format(n=number(rng, n)), y
    raise ValueError(tid)


def build_vocab():
    vocab = list(w4.SPECIALS)
    texts = [q for q, _k in PARITY] + [t for t, _k in COMPARE] + IDENTITY
    words = []
    for t in texts:
        for w in t.replace("{n}", " ").replace("?", " ").split():
            if w not in words:
                words.append(w)
    for t in words + NUM_WORDS + [str(i) for i in range(10)] + ["?", ".", ","]:
        if t not in vocab:
            vocab.append(t)
    for ch in "abcdefghijklmnopqrstuvwxyz":
        if ch not in vocab:
            vocab.append(ch)
    for ch in "abcdefghijklmnopqrstuvwxyz0123456789":
        vocab.append("##" + ch)
    return vocab


def encode_batch(tok, texts, L):
    ids = np.zeros((len(texts), L), dtype=np.int64)
    mask = np.zeros((len(texts), L), dtype=np.int64)
    for i, t in enumerate(texts):
        e = tok.encode(t)
        assert len(e) <= L, (t, e)
        ids[i, :len(e)] = e
        mask[i, :len(e)] = 1
    return torch.from_numpy(ids), torch.from_numpy(mask)


def task_set(tid, x, digits, rng, tok, L, per_digit):
    pix, texts, ys = [], [], []
    for _ in range(per_digit):
        for i in range(len(digits)):
            q, y = question(tid, rng, int(digits[i]))
            pix.append(x[i])
            texts.append(q)
            ys.append(y)
    ids, mask = encode_batch(tok, texts, L)
    return (torch.from_numpy(np.stack(pix)[:, None].astype(np.float32)), ids, mask,
            torch.from_numpy(np.array(ys, dtype=np.int64)), texts)


def pretext_set(x, rng, tok, L, repeats):
    pix, texts, ys = [], [], []
    fams = [t[0] for t in TASKS]
    for _ in range(repeats):
        for i in range(len(x)):
            k = rng.randint(4)
            q, _y = question(fams[rng.randint(len(fams))], rng, rng.randint(10))
            s = rng.randint(2)
            if s:
                ws = q.replace("?", " ?").split()
                for _t in range(10):
                    perm = rng.permutation(len(ws))
                    if list(perm) != list(range(len(ws))):
                        break
                q = " ".join(ws[j] for j in perm)
            pix.append(np.rot90(x[i], k=k))
            texts.append(q)
            ys.append(k + 4 * s)
    ids, mask = encode_batch(tok, texts, L)
    return (torch.from_numpy(np.ascontiguousarray(np.stack(pix)[:, None]).astype(np.float32)), ids, mask,
            torch.from_numpy(np.array(ys, dtype=np.int64)))


# ---------------------------------------------------------------------------
# Model
# ---------------------------------------------------------------------------
class QAModel(nn.Module):
    def __init__(self, vocab, max_length, patch, dim, depth, heads, mlp, classes):
        super().__init__()
        n = (8 // patch) ** 2
        self.n_patches = n
        self.patch_embed = nn.Conv2d(1, dim, kernel_size=patch, stride=patch)
        self.image_pos = nn.Parameter(torch.zeros(1, n, dim))
        nn.init.normal_(self.image_pos, std=0.02)
        self.embeddings = w4.Embeddings(vocab, dim, max_length)
        self.layers = nn.ModuleList([w4.Layer(dim, heads, mlp) for _ in range(depth)])
        self.norm = nn.LayerNorm(dim)
        self.classifier = nn.Linear(dim, classes)

    def forward(self, pixels, input_ids, attention_mask):
        img = self.patch_embed(pixels).flatten(2).transpose(1, 2) + self.image_pos  # B,16,D
        txt = self.embeddings(input_ids)
        x = torch.cat([img, txt], dim=1)
        m = torch.cat([torch.ones_like(img[:, :, 0]), attention_mask.to(img.dtype)], dim=1)  # image tokens: always on
        bias = ((1.0 - m) * -10000.0).unsqueeze(1).unsqueeze(1)
        for layer in self.layers:
            x = layer(x, bias)
        x = self.norm(x)
        pooled = (x * m.unsqueeze(-1)).sum(1) / m.sum(1, keepdim=True)
        return self.classifier(pooled)


def make_model(cfg, vocab_size, classes):
    m = cfg["model"]
    return QAModel(vocab_size, cfg["max_length"], m["patch"], m["dim"], m["depth"], m["heads"], m["mlp"], classes)


def train(model, params, data, epochs, batch, lr, wd, warmup_frac, seed):
    X, ids, mask, y = data
    opt = torch.optim.AdamW(params, lr=lr, weight_decay=wd)
    g = torch.Generator().manual_seed(seed)
    steps_per = math.ceil(len(y) / batch)
    total, step = epochs * steps_per, 0
    model.train()
    for _e in range(epochs):
        perm = torch.randperm(len(y), generator=g)
        for i in range(steps_per):
            idx = perm[i * batch:(i + 1) * batch]
            for grp in opt.param_groups:
                grp["lr"] = d8.lr_at(step, total, lr, warmup_frac)
            loss = F.cross_entropy(model(X[idx], ids[idx], mask[idx]), y[idx])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            step += 1
    model.eval()


@torch.no_grad()
def accuracy(model, X, ids, mask, y, *_rest):
    model.eval()
    return float((model(X, ids, mask).argmax(1) == y).float().mean())


def export_onnx(model, path, metadata, opset, L):
    import onnx
    from onnx import numpy_helper
    model.eval()
    buf = io.BytesIO()
    ids = torch.full((2, L), w4.PAD, dtype=torch.int64)
    ids[:, 0] = w4.CLS
    torch.onnx.export(
        model, (torch.zeros(2, 1, 8, 8), ids, torch.ones(2, L, dtype=torch.int64)), buf, export_params=True,
        opset_version=opset, do_constant_folding=False, input_names=["pixels", "input_ids", "attention_mask"],
        output_names=["logits"],
        dynamic_axes={"pixels": {0: "batch"}, "input_ids": {0: "batch", 1: "sequence"},
                      "attention_mask": {0: "batch", 1: "sequence"}, "logits": {0: "batch"}},
        keep_initializers_as_inputs=False,
    )
    m = onnx.load_from_string(buf.getvalue())
    m.producer_name = "pytorch"
    m.producer_version = torch.__version__
    m.doc_string = ""
    m.graph.doc_string = ""
    m.graph.name = "digitsqa_classifier"
    for node in m.graph.node:
        node.doc_string = ""
    del m.metadata_props[:]
    for k, v in metadata.items():
        e = m.metadata_props.add()
        e.key, e.value = k, str(v)
    onnx.checker.check_model(m, full_check=True)
    inits = {i.name: numpy_helper.to_array(i) for i in m.graph.initializer}
    sd = model.state_dict()
    for name, t in sd.items():
        assert name in inits, "state-dict tensor %s is not an ONNX initializer (have %s)" % (name, sorted(inits))
        assert np.array_equal(inits[name], t.numpy()), "value mismatch for %s" % name
    extra = sorted(set(inits) - set(sd))
    assert not extra, "ONNX has initializers that are not state-dict tensors: %s" % extra
    assert [i.name for i in m.graph.input] == ["pixels", "input_ids", "attention_mask"]
    assert [o.name for o in m.graph.output] == ["logits"]
    with open(path, "wb") as f:
        f.write(m.SerializeToString())
    return m


def run_onnx_numpy(m, feeds):
    """words-4's numpy interpreter plus Conv, Flatten, ConstantOfShape (digits-8's), for this graph."""
    from onnx import helper, numpy_helper, TensorProto
    env = {i.name: numpy_helper.to_array(i) for i in m.graph.initializer}
    env.update(feeds)
    np_types = {TensorProto.FLOAT: np.float32, TensorProto.INT64: np.int64, TensorProto.BOOL: np.bool_}
    for node in m.graph.node:
        a = {at.name: helper.get_attribute_value(at) for at in node.attribute}
        i = [env[n] if n else None for n in node.input]
        op = node.op_type
        if op == "Cast":
            r = i[0].astype(np_types[a["to"]])
        elif op == "ReduceSum":
            axes = tuple(int(v) for v in i[1]) if len(i) > 1 and i[1] is not None else None
            r = i[0].sum(axis=axes, keepdims=bool(a.get("keepdims", 1)))
        elif op == "Conv":
            w, b = i[1], i[2]
            s = a.get("strides", [1, 1])[0]
            kk = w.shape[2]
            B, _C, H, W = i[0].shape
            oh, ow = (H - kk) // s + 1, (W - kk) // s + 1
            cols = np.stack([i[0][:, :, y * s:y * s + kk, z * s:z * s + kk].reshape(B, -1)
                             for y in range(oh) for z in range(ow)], axis=2)
            r = (np.einsum("ok,bkl->bol", w.reshape(w.shape[0], -1), cols) + b[None, :, None]).reshape(B, -1, oh, ow)
        elif op == "Flatten":
            ax = a.get("axis", 1)
            r = i[0].reshape(int(np.prod(i[0].shape[:ax])), -1)
        elif op == "ConstantOfShape":
            v = numpy_helper.to_array(a["value"]) if "value" in a else np.zeros(1, np.float32)
            r = np.full(tuple(int(s) for s in i[0]), v.reshape(-1)[0], dtype=v.dtype)
        elif op == "Expand":
            r = i[0] * np.ones(tuple(int(v) for v in i[1]), dtype=i[0].dtype)
        else:
            r = w4._eval_common(node, a, i)
        outs = r if isinstance(r, tuple) else (r,)
        for name, val in zip(node.output, outs):
            env[name] = np.asarray(val)
    return env[m.graph.output[0].name]


def write_png(path, img):
    """8-bit grayscale PNG of a 2-D uint8 array (no dependencies; zlib level 9, fixed header)."""
    h, w = img.shape
    raw = b"".join(b"\x00" + img[y].tobytes() for y in range(h))

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 0, 0, 0, 0)) +
                chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b""))


# ---------------------------------------------------------------------------
def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default=os.path.join(REPO, "public", "zoo", ZOO))
    ap.add_argument("--no-export", action="store_true")
    ap.add_argument("--base-cache", metavar="DIR")
    ap.add_argument("--set", action="append", default=[], metavar="KEY=JSON")
    args = ap.parse_args()
    cfg = copy.deepcopy(CONFIG)
    for kv in args.set:
        k, v = kv.split("=", 1)
        d8.set_path(cfg, k, v)
    t_start = time.time()
    torch.set_num_threads(cfg["threads"])
    torch.set_num_interop_threads(1)
    torch.use_deterministic_algorithms(True)
    torch.manual_seed(cfg["seed"])
    L = cfg["max_length"]

    images, labels, train_idx, eval_idx = d8.load_data(cfg)
    xtr, ytr, xev, yev = images[train_idx], labels[train_idx], images[eval_idx], labels[eval_idx]
    vocab = build_vocab()
    tok = w4.WordPiece(vocab)
    print("digits: %d train, %d held out; vocabulary %d" % (len(xtr), len(xev), len(vocab)), flush=True)

    evals, trains = {}, {}
    for ti, (tid, *_r) in enumerate(TASKS):
        evals[tid] = task_set(tid, xev, yev, np.random.RandomState(cfg["seed"] + 500 + ti), tok, L, 1)
        trains[tid] = task_set(tid, xtr, ytr, np.random.RandomState(cfg["seed"] + 600 + ti), tok, L,
                               cfg["questions_per_digit"])
    ptr = pretext_set(xtr, np.random.RandomState(cfg["seed"] + 700), tok, L, 4)
    pev = pretext_set(xev, np.random.RandomState(cfg["seed"] + 701), tok, L, 1)

    p = cfg["pretext"]
    torch.manual_seed(cfg["seed"] + 1)
    base = make_model(cfg, len(vocab), len(PRETEXT_CLASSES))
    nparams = sum(v.numel() for v in base.state_dict().values())
    print("model: %d parameters (%.1f kB fp32)" % (nparams, nparams * 4 / 1024), flush=True)
    t0 = time.time()
    cache = None
    if args.base_cache:
        import hashlib
        key = json.dumps({k: cfg[k] for k in ["seed", "holdout", "max_length", "model", "pretext"]}, sort_keys=True)
        cache = os.path.join(args.base_cache, "qa-base-%s.pt" % hashlib.sha256(key.encode()).hexdigest()[:16])
    if cache and os.path.exists(cache):
        base.load_state_dict(torch.load(cache))
    else:
        train(base, list(base.parameters()), ptr, p["epochs"], p["batch"], p["lr"], p["weight_decay"],
              p["warmup_frac"], cfg["seed"] + 2)
        if cache:
            os.makedirs(args.base_cache, exist_ok=True)
            torch.save(base.state_dict(), cache)
    pre_acc = accuracy(base, *pev)
    print("pretext: held-out acc %.4f, %.0fs" % (pre_acc, time.time() - t0), flush=True)
    base_sd = {k: v.detach().clone() for k, v in base.state_dict().items()}

    f = cfg["finetune"]
    task_sds, individual, probe_acc = [], {}, {}
    for ti, (tid, *_r) in enumerate(TASKS):
        t0 = time.time()
        model = make_model(cfg, len(vocab), 2)
        sd = {k: v.clone() for k, v in base_sd.items() if not k.startswith("classifier.")}
        sd["classifier.weight"] = torch.zeros(2, cfg["model"]["dim"])
        sd["classifier.bias"] = torch.zeros(2)
        model.load_state_dict(sd)
        for n_, p_ in model.named_parameters():
            p_.requires_grad_(n_.startswith("classifier."))
        train(model, list(model.classifier.parameters()), trains[tid][:4], f["probe_epochs"], f["batch"],
              f["probe_lr"], 0.0, 0.0, cfg["seed"] + 200 + ti)
        for p_ in model.parameters():
            p_.requires_grad_(True)
        probe_acc[tid] = accuracy(model, *evals[tid])
        train(model, list(model.parameters()), trains[tid][:4], f["epochs"], f["batch"], f["lr"], f["weight_decay"],
              f["warmup_frac"], cfg["seed"] + 300 + ti)
        individual[tid] = accuracy(model, *evals[tid])
        task_sds.append({k: v.detach().clone() for k, v in model.state_dict().items()})
        print("task %-9s probe %.4f  fine-tuned %.4f  (%.0fs)" % (tid, probe_acc[tid], individual[tid],
                                                                 time.time() - t0), flush=True)

    names = d8.shared_names(base_sd, task_sds)
    assert "classifier.weight" not in names
    tv_norm = math.sqrt(sum(float(((t[n] - base_sd[n]) ** 2).sum()) for t in task_sds for n in names) / len(task_sds))
    w_norm = math.sqrt(sum(float((base_sd[n] ** 2).sum()) for n in names))
    mc = cfg["merge"]
    T = len(TASKS)
    merged = {"avg": [d8.merge_avg(base_sd, task_sds, names)] * T,
              "ta": [d8.merge_ta(base_sd, task_sds, names, mc["ta_lambda"])] * T,
              "ties": [d8.merge_ties(base_sd, task_sds, names, mc["ties_k"], mc["ties_lambda"])] * T}
    merged["emr"], emr_lambdas = d8.merge_emr(base_sd, task_sds, names)
    merged["pretrained"] = [{n: base_sd[n] for n in names}] * T
    ids_ = [t[0] for t in TASKS]
    results = {}
    for meth, sds in merged.items():
        results[meth] = {}
        for ti, tid in enumerate(ids_):
            model = make_model(cfg, len(vocab), 2)
            sd = dict(task_sds[ti])
            sd.update(sds[ti])
            model.load_state_dict(sd)
            results[meth][tid] = accuracy(model, *evals[tid])
    ind_avg = float(np.mean([individual[t] for t in ids_]))
    print("%-10s %s   avg   norm" % ("", " ".join("%9s" % t for t in ids_)))
    print("%-10s %s %.4f" % ("individual", " ".join("%9.4f" % individual[t] for t in ids_), ind_avg))
    for meth in ["pretrained", "avg", "ta", "ties", "emr"]:
        r = results[meth]
        print("%-10s %s %.4f %.4f" % (meth, " ".join("%9.4f" % r[t] for t in ids_), np.mean([r[t] for t in ids_]),
                                      float(np.mean([r[t] / individual[t] for t in ids_]))))
    print("EMR lambdas: " + " ".join("%s=%.4f" % (t, l) for t, l in zip(ids_, emr_lambdas)))
    print("train+merge time %.0fs" % (time.time() - t_start), flush=True)
    if args.no_export:
        return

    import onnx
    out = args.out
    os.makedirs(os.path.join(out, "eval", "images"), exist_ok=True)
    rnd = lambda v: round(float(v), 6)  # noqa: E731

    def save_model(name, sd, classes, extra):
        model = make_model(cfg, len(vocab), len(classes))
        model.load_state_dict(sd)
        meta = {"zoo": ZOO, "model": name, "classes": json.dumps(classes), **extra}
        m = export_onnx(model, os.path.join(out, name + ".onnx"), meta, cfg["opset"], L)
        d8.write_safetensors(os.path.join(out, name + ".safetensors"), model.state_dict(), meta)
        ev = evals[ids_[0]]
        n_tok = int(ev[2][:16].sum(1).max())
        with torch.no_grad():
            ref = model(ev[0][:16], ev[1][:16, :n_tok], ev[2][:16, :n_tok]).numpy()
            padded = model(ev[0][:16], ev[1][:16], ev[2][:16]).numpy()
        got = run_onnx_numpy(m, {"pixels": ev[0][:16].numpy(), "input_ids": ev[1][:16, :n_tok].numpy(),
                                 "attention_mask": ev[2][:16, :n_tok].numpy()})
        err = max(float(np.abs(got - ref).max()), float(np.abs(padded - ref).max()))
        assert err < 1e-4, (name, err)
        return err

    errs = {"base": save_model("base", base_sd, PRETEXT_CLASSES, {"role": "base"})}
    for ti, tid in enumerate(ids_):
        errs[tid] = save_model(tid, task_sds[ti], ANSWERS, {"role": "task"})
        X, ids, mask, y, _texts = evals[tid]
        d8.write_safetensors(os.path.join(out, "eval", tid + ".safetensors"),
                             {"pixels": X, "input_ids": ids, "attention_mask": mask, "labels": y},
                             {"task": tid, "classes": json.dumps(ANSWERS)})
    print("ONNX numpy check, max |logit diff| vs torch: %.2e" % max(errs.values()), flush=True)
    # ~50 examples of one task as PNG + JSONL (the images as a user would drop them)
    im = cfg["images"]
    X, ids, mask, y, texts = evals[im["task"]]
    with open(os.path.join(out, "eval", im["task"] + ".jsonl"), "w", encoding="utf-8") as fh:
        for i in range(im["count"]):
            name = "%s-%03d.png" % (im["task"], i)
            px = np.round(X[i, 0].numpy() * 255.0).astype(np.uint8)
            write_png(os.path.join(out, "eval", "images", name), np.kron(px, np.ones((im["scale"], im["scale"]),
                                                                                      dtype=np.uint8)))
            fh.write(json.dumps({"image": "images/" + name, "text": texts[i], "label": int(y[i])}) + "\n")
    with open(os.path.join(out, "tokenizer.json"), "w", encoding="utf-8") as fh:
        json.dump(w4.tokenizer_json(vocab, L), fh, indent=2, ensure_ascii=False)
        fh.write("\n")
    with open(os.path.join(out, "tokenizer_config.json"), "w", encoding="utf-8") as fh:
        json.dump(w4.tokenizer_config(L), fh, indent=2)
        fh.write("\n")
    # the questions and the ids training used, for check_words4.mjs
    with open(os.path.join(out, "eval", "token-ids.json"), "w", encoding="utf-8") as fh:
        json.dump({tid: [[int(v) for v in evals[tid][1][i][evals[tid][2][i] == 1]] for i in range(len(evals[tid][3]))]
                   for tid in ids_}, fh, separators=(",", ":"))
        fh.write("\n")
    with open(os.path.join(out, "eval", "questions.json"), "w", encoding="utf-8") as fh:
        json.dump({tid: evals[tid][4] for tid in ids_}, fh, indent=0, ensure_ascii=False)
        fh.write("\n")

    def method_json(meth, params):
        r = results[meth]
        return {"params": params, "accuracy": {t: rnd(r[t]) for t in ids_}, "average": rnd(np.mean([r[t] for t in ids_])),
                "normalized": {t: rnd(r[t] / individual[t]) for t in ids_},
                "normalizedAverage": rnd(np.mean([r[t] / individual[t] for t in ids_]))}

    d8man = json.load(open(os.path.join(REPO, "public", "zoo", "digits-8", "manifest.json"), encoding="utf-8"))
    manifest = {
        "name": ZOO,
        "description": ("A two-input (image + question) miniature: a tiny transformer (%d parameters) over 8x8 "
                        "digit patches and question tokens, pre-trained on a pretext task and fine-tuned (all "
                        "weights, a new head per task) on 3 yes/no question families." % nparams),
        "inputs": [
            {"kind": "image", "name": "pixels", "shape": [None, 1, 8, 8], "dtype": "float32",
             "preprocessing": d8man["input"]["preprocessing"]},
            {"kind": "text", "names": {"ids": "input_ids", "mask": "attention_mask"}, "dtype": "int64",
             "shape": [None, "sequence"], "tokenizer": "tokenizer.json", "tokenizerConfig": "tokenizer_config.json",
             "maxLength": L, "padId": w4.PAD},
        ],
        "output": {"name": "logits", "shape": [None, "classes"], "dtype": "float32"},
        "base": {"id": "base", "onnx": "base.onnx", "safetensors": "base.safetensors", "classes": PRETEXT_CLASSES,
                 "pretext": "8 classes: the image's rotation (0/90/180/270 degrees, numpy.rot90) x whether the "
                            "question's words were shuffled; the question is drawn from any family about a random "
                            "digit, so digit labels are never used.",
                 "pretextAccuracy": rnd(pre_acc)},
        "tasks": [
            dict({"id": tid, "title": title, "description": desc, "classes": ANSWERS, "onnx": tid + ".onnx",
                  "safetensors": tid + ".safetensors", "eval": "eval/%s.safetensors" % tid,
                  "evalSize": int(len(evals[tid][3])), "individualAccuracy": rnd(individual[tid]),
                  "probeAccuracy": rnd(probe_acc[tid])},
                 **({"evalImages": "eval/%s.jsonl" % tid, "evalImagesSize": im["count"]} if tid == im["task"] else {}))
            for tid, title, desc, _f in TASKS],
        "reference": {
            "sharedTensors": len(names), "sharedParameters": int(sum(base_sd[n].numel() for n in names)),
            "taskSpecific": ["classifier.weight", "classifier.bias"],
            "individual": {"accuracy": {t: rnd(individual[t]) for t in ids_}, "average": rnd(ind_avg)},
            "methods": {
                "pretrained": method_json("pretrained", {"note": "base backbone with each task's own head"}),
                "avg": method_json("avg", {}), "ta": method_json("ta", {"lambda": mc["ta_lambda"]}),
                "ties": method_json("ties", {"k": mc["ties_k"], "lambda": mc["ties_lambda"],
                                             "trim": "as digits-8 (whole model, torch.kthvalue)"}),
                "emr": dict(method_json("emr", {}), lambdas={t: rnd(l) for t, l in zip(ids_, emr_lambdas)}),
            },
            "taskVectorRelativeNorm": rnd(tv_norm / w_norm),
        },
        "training": {
            "seed": cfg["seed"], "threads": cfg["threads"], "deterministicAlgorithms": True,
            "data": "sklearn.datasets.load_digits, x / 16; digits-8's split (the same 300 held-out digits); each "
                    "evaluation example is one held-out digit with one question (fixed seed); training: %d "
                    "questions per training digit" % cfg["questions_per_digit"],
            "model": dict(cfg["model"], maxLength=L, vocab=len(vocab), parameters=nparams,
                          layout="Conv2d patch embedding + image position embedding (16 tokens), token + position "
                                 "embeddings (question), concatenated; pre-norm encoder layers as words-4; final "
                                 "LayerNorm, masked mean pooling over image and question tokens, Linear classifier"),
            "pretext": cfg["pretext"],
            "finetune": dict(f, optimizer="AdamW, cosine schedule with linear warmup",
                             head="new head per task, zero-initialised, trained alone first, then all weights"),
            "merge": mc,
        },
        "generator": {"script": SCRIPT_REL, "command": "/usr/bin/python3 " + SCRIPT_REL,
                      "python": platform.python_version(), "torch": torch.__version__, "numpy": np.__version__,
                      "onnx": onnx.__version__, "opset": cfg["opset"]},
    }
    with open(os.path.join(out, "manifest.json"), "w", encoding="utf-8") as fh:
        json.dump(manifest, fh, indent=2, ensure_ascii=False)
        fh.write("\n")
    write_readme(out, cfg, manifest, nparams, len(vocab))
    w4.run_js_checks(out, [["node", "tools/zoo/check_words4.mjs"]])
    print("wrote %s in %.0fs" % (out, time.time() - t_start), flush=True)


def write_readme(out, cfg, man, nparams, nvocab):
    ids = [t["id"] for t in man["tasks"]]
    ref = man["reference"]
    rows = [("Individual", ref["individual"]["accuracy"], ref["individual"]["average"], None)]
    labels = {"pretrained": "Pre-trained backbone + task head", "avg": "Weight averaging",
              "ta": "Task Arithmetic (λ=%g)" % cfg["merge"]["ta_lambda"],
              "ties": "TIES-Merging (k=%g, λ=%g)" % (cfg["merge"]["ties_k"], cfg["merge"]["ties_lambda"]),
              "emr": "EMR-Merging"}
    for meth in ["pretrained", "avg", "ta", "ties", "emr"]:
        r = ref["methods"][meth]
        rows.append((labels[meth], r["accuracy"], r["average"], r["normalizedAverage"]))
    table = ["| Method | " + " | ".join(ids) + " | Avg | Normalized |", "|---|" + "---:|" * (len(ids) + 2)]
    for name, acc, avg, norm in rows:
        table.append("| %s | %s | **%.1f** | %s |" % (name, " | ".join("%.1f" % (100 * acc[i]) for i in ids),
                                                      100 * avg, "—" if norm is None else "%.1f" % (100 * norm)))
    fams = {"parity": PARITY, "compare": COMPARE, "identity": [(t, "") for t in IDENTITY]}
    task_lines = "\n".join("| `%s` | %s | %s |" % (t["id"], t["title"], "; ".join("“%s”" % q for q, _k in fams[t["id"]]))
                           for t in man["tasks"])
    lam = ref["methods"]["emr"]["lambdas"]
    text = README_TEMPLATE.format(
        script=SCRIPT_REL, nparams=nparams, kb=nparams * 4 / 1024, nvocab=nvocab, L=cfg["max_length"],
        table="\n".join(table), task_lines=task_lines, m=cfg["model"], p=cfg["pretext"], f=cfg["finetune"],
        lambdas=", ".join("%s %.3f" % kv for kv in lam.items()), tvnorm=ref["taskVectorRelativeNorm"],
        pre_acc=man["base"]["pretextAccuracy"], seed=cfg["seed"], q=cfg["questions_per_digit"], im=cfg["images"],
        torch=torch.__version__, opset=cfg["opset"])
    with open(os.path.join(out, "README.md"), "w", encoding="utf-8") as fh:
        fh.write(text)


README_TEMPLATE = """# digits-qa — the multi-modal demo: an image and a question

A two-input model: an 8×8 handwritten digit and a short yes/no question about
it. Generated by [`{script}`](../../../{script}); CI never trains, it uses the
committed files. Do not edit these files by hand.

* `base.onnx`, `base.safetensors` — the pre-trained model ({nparams}
  parameters, {kb:.0f} kB fp32), pretext head with 8 classes (held-out
  pretext accuracy {pre_acc:.3f}).
* `<task>.onnx`, `<task>.safetensors` — the base fine-tuned on one question
  family (all weights, a new 2-class head `classifier`: no / yes).
* `tokenizer.json`, `tokenizer_config.json` — the question tokenizer
  (WordPiece, {nvocab} tokens, NFC + Lowercase, BertPreTokenizer,
  `[CLS] question [SEP]`; same conventions as words-4).
* `eval/<task>.safetensors` — 300 labeled examples (each held-out digit of
  digits-8 with one question): `pixels` F32 `[300,1,8,8]`, `input_ids` I64
  `[300,{L}]`, `attention_mask` I64 `[300,{L}]` (padded with 0), `labels` I64.
* `eval/{im[task]}.jsonl` + `eval/images/*.png` — the first {im[count]} examples of
  `{im[task]}` as a user would bring them: `{{"image": "images/<file>.png",
  "text": "…", "label": n}}`, PNGs 8-bit grayscale {im[scale]}× upscaled (32×32,
  nearest), bright digit on black (value round(255·x)).
* `eval/token-ids.json`, `eval/questions.json` — every evaluation question
  and the ids training used (for `tools/zoo/check_words4.mjs`).

## Inputs and output
`pixels` float32 `[B,1,8,8]` exactly as digits-8 (x / 16 of the sklearn
digits, bright on dark; PNGs: resize to 8×8 by area averaging, x / 255);
`input_ids`, `attention_mask` int64 `[B,S]`, S dynamic up to {L}; output
`logits` float32 `[B,2]`, ONNX opset {opset}, dynamic batch. Initializer names
= safetensors names.

## Tasks

| Task | Title | Questions (`{{n}}`: 1-8 for compare, 0-9 for identity, as a digit or a word) |
|---|---|---|
{task_lines}

## Reference accuracies (held-out, %)
the formulas of docs/architecture.md#emr-semantics in plain torch over the shared tensors (all but the
heads), each task with its own head; "Normalized" = mean of merged /
individual.

{table}

EMR rescalers λ_t: {lambdas}. Mean task-vector L2 norm relative to the base: {tvnorm:.3f}.

## Settings
Seed {seed} (digits-8's split), one thread, deterministic algorithms. Model:
patch {m[patch]}×{m[patch]} Conv2d, dim {m[dim]}, {m[depth]} pre-norm layers, {m[heads]}
heads, MLP {m[mlp]}. Pretext: a fixed set of 4 (rotation, question, shuffled
or not) draws per training digit, {p[epochs]} epochs, AdamW lr {p[lr]:g}. Fine-tuning: {q} questions per training digit; head alone
{f[probe_epochs]} epochs (lr {f[probe_lr]:g}), then all weights {f[epochs]} epochs,
lr {f[lr]:g}, batch {f[batch]}, cosine schedule.

## Regenerating
```
apt-get install -y python3-torch python3-sklearn python3-onnx
/usr/bin/python3 {script}
```
(Debian 12, torch {torch}; a few minutes on one core.) `--no-export`,
`--set KEY=JSON`, `--out DIR`, `--base-cache DIR` work as for digits-8.

## Check
The script ends by running `node tools/zoo/check_words4.mjs` on what it
wrote: `@huggingface/tokenizers` 0.2.0 must give the ids training used for
every evaluation question (`eval/token-ids.json`), and ONNX Runtime
(onnxruntime-web, WebAssembly, in Node) must reproduce each task's accuracy
from `eval/<task>.safetensors`. Its output when these files were written:

CHECK_RESULTS
"""


if __name__ == "__main__":
    main()
