#!/usr/bin/python3
"""Regenerate Merge Studio's text demo zoo `public/zoo/words-4/`.

A tiny transformer text classifier (WordPiece tokenizer, token + position
embeddings, 2 pre-norm encoder layers, masked mean pooling, linear head) is
pre-trained on a self-supervised pretext task (corruption detection on single
texts and text pairs), then fine-tuned per task WITH LoRA (rank r on the
attention q and v projections) plus a new classification head saved through
peft's `modules_to_save`. Four tasks, built from Debian's word lists and word
lists written into this script: language identification (en/de/fr/es), topic,
sentiment, and a text-pair task (are both texts in the same language?).

Writes, per task, the peft adapter (adapter_config.json +
adapter_model.safetensors in peft's own layout), the full fine-tuned model
(LoRA merged in + head) as ONNX and safetensors, labeled evaluation sets as
JSON Lines (and one as CSV), plus tokenizer.json / tokenizer_config.json in
the Hugging Face `tokenizers` format, manifest.json and README.md with
reference accuracies of averaging, Task Arithmetic, TIES and EMR-Merging
computed on the LoRA task vectors with the formulas of docs/architecture.md#emr-semantics.

Needs only Debian packages:
    apt-get install -y python3-torch python3-onnx python3-sklearn \
        wamerican wngerman wfrench wspanish
    /usr/bin/python3 tools/zoo/make_words4.py            # writes public/zoo/words-4/
    /usr/bin/python3 tools/zoo/make_words4.py --no-export # train + report only
Then check the tokenizer against the JS library (see tools/zoo/README.md):
    node tools/zoo/check_words4.mjs

Deterministic: fixed seeds, torch.use_deterministic_algorithms(True), one
thread, no DataLoader.
"""

import argparse
import copy
import csv
import io
import json
import math
import os
import platform
import sys
import time
import unicodedata

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

sys.dont_write_bytecode = True  # no __pycache__ beside the scripts
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import make_digits8 as d8  # noqa: E402  (shared writers, schedule and reference merges)

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
SCRIPT_REL = "tools/zoo/make_words4.py"
ZOO = "words-4"

CONFIG = {
    "seed": 20261124,
    "threads": 1,
    "max_length": 48,  # position embeddings; every generated example fits (longer ones are redrawn)
    "model": {"dim": 48, "depth": 2, "heads": 4, "mlp": 96},
    "vocab": {"pieces_per_language": 70, "min_piece": 2, "max_piece": 4},
    "data": {"train": 4000, "pair_train": 20000, "eval": 250, "pretext_train": 24000, "pretext_eval": 1000,
             "eval_word_frac": 0.2},
    "pretext": {"epochs": 20, "batch": 128, "lr": 2e-3, "weight_decay": 0.05, "warmup_frac": 0.05},
    "lora": {"r": 8, "alpha": 16, "targets": ["q", "k", "v", "o", "fc1", "fc2"]},
    "pair_task": "samelang",
    "finetune": {"epochs": 16, "batch": 64, "lr": 1.5e-3, "weight_decay": 0.0, "warmup_frac": 0.1},
    "merge": {"ta_lambda": 0.3, "ties_k": 0.2, "ties_lambda": 1.0},
    "opset": 17,
}

LANGS = [("en", "English", "/usr/share/dict/american-english", "wamerican"),
         ("de", "German", "/usr/share/dict/ngerman", "wngerman"),
         ("fr", "French", "/usr/share/dict/french", "wfrench"),
         ("es", "Spanish", "/usr/share/dict/spanish", "wspanish")]

# Word lists written for this fixture (English).
FILLER = ("the a an of and to in is was it for on with as at by this that we they i you he she our my "
          "today very really so just all some more again here there now then also").split()
TOPICS = [
    ("sports", "football soccer tennis goal team coach match player stadium league score referee "
               "basketball runner race medal season striker tournament champion".split()),
    ("food", "pizza pasta bread cheese soup salad recipe kitchen chef dinner lunch breakfast dessert "
             "sauce garlic oven noodles rice butter fruit".split()),
    ("weather", "rain snow storm wind cloud sunny forecast thunder fog temperature humid frost breeze "
                "drizzle hail heatwave umbrella weather sky lightning".split()),
    ("tech", "computer software laptop keyboard internet server code phone screen battery app network "
             "robot chip data program website email printer update".split()),
]
SENTIMENT = [
    ("negative", "bad terrible awful horrible hate hated boring poor disappointing worst sad ugly annoying "
                 "broken dull nasty useless angry painful mediocre".split()),
    ("positive", "good great excellent wonderful amazing love loved happy enjoyed fantastic perfect pleasant "
                 "delightful brilliant nice beautiful superb best awesome fun".split()),
]
PUNCT = list(".,!?;:'\"()-")

SPECIALS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]"]
PAD, UNK, CLS, SEP = 0, 1, 2, 3

TASKS = [
    ("lang", "Language", "Which language a text of 4-7 dictionary words is in (Debian word lists); 4 classes.",
     ["English", "German", "French", "Spanish"], False),
    ("topic", "Topic", "The topic of a short English text (topic words, fillers and a sentiment word or not); "
     "4 classes.", [t[0] for t in TOPICS], False),
    ("sentiment", "Sentiment", "Whether a short English text is negative or positive (hand lexicons; topic words "
     "as distractors); 2 classes.", [s[0] for s in SENTIMENT], False),
]
PAIR_TASKS = {
    "samelang": ("samelang", "Same language?", "Text pair: are both texts (3-5 dictionary words each) in the same "
                 "language? 2 classes.", ["different", "same"], True),
    "sametopic": ("sametopic", "Same topic?", "Text pair: are both short English texts about the same topic? "
                  "2 classes.", ["different", "same"], True),
    "contains": ("contains", "Contained?", "Text pair: does the first text contain every word of the second "
                 "(2-3 words, any order), or is one of them replaced by another word of the same kind? 2 classes.",
                 ["no", "yes"], True),
}
PRETEXT_CLASSES = ["intact", "scrambled word", "pair: same source", "pair: other source", "pair: shuffled copy"]


# ---------------------------------------------------------------------------
# Words
# ---------------------------------------------------------------------------
def load_words(cfg):
    """Per language: words (original case) of 3-10 letters, not in any other language's list."""
    raw = {}
    for code, _name, path, _pkg in LANGS:
        with open(path, encoding="utf-8") as f:
            ws = [w.strip() for w in f]
        keep = []
        for w in ws:
            if not (3 <= len(w) <= 10) or not w.isalpha():
                continue
            w = unicodedata.normalize("NFC", w)
            if code != "de" and w != w.lower():
                continue  # proper nouns (German nouns are capitalised, keep them)
            if code == "de" and w.isupper():
                continue
            keep.append(w)
        raw[code] = sorted(set(keep))
    lowered = {c: {w.lower() for w in ws} for c, ws in raw.items()}
    lex = set(FILLER) | {w for _t, ws in TOPICS for w in ws} | {w for _s, ws in SENTIMENT for w in ws}
    out = {}
    for code, ws in raw.items():
        others = set().union(*[lowered[c] for c in lowered if c != code])
        uniq = sorted({w for w in ws if w.lower() not in others and w.lower() not in lex})
        rng = np.random.RandomState(cfg["seed"] + 7)
        perm = rng.permutation(len(uniq))
        n_ev = int(len(uniq) * cfg["data"]["eval_word_frac"])
        out[code] = {"train": [uniq[i] for i in sorted(perm[n_ev:])], "eval": [uniq[i] for i in sorted(perm[:n_ev])],
                     "all": len(ws)}
    return out


# ---------------------------------------------------------------------------
# Tokenizer: NFC + lowercase, BERT pre-tokenizer, WordPiece. Written as tokenizer.json and
# reimplemented here exactly as @huggingface/tokenizers 0.2.0 runs it (checked by check_words4.mjs).
# ---------------------------------------------------------------------------
def build_vocab(words, cfg):
    v = cfg["vocab"]
    vocab = list(SPECIALS)
    seen = set(vocab)

    def add(t):
        if t not in seen:
            seen.add(t)
            vocab.append(t)

    for w in FILLER + [w for _t, ws in TOPICS for w in ws] + [w for _s, ws in SENTIMENT for w in ws]:
        add(w)
    for p in PUNCT:
        add(p)
    chars = sorted({ch for code in words for w in words[code]["train"] for ch in w.lower()} |
                   {ch for w in FILLER for ch in w} | set("abcdefghijklmnopqrstuvwxyz"))
    for ch in chars:
        add(ch)
    for ch in chars:
        add("##" + ch)
    # the most frequent word-initial and inner pieces per language (training words only)
    for code, _n, _p, _k in LANGS:
        counts = {}
        for w in words[code]["train"]:
            w = w.lower()
            for k in range(v["min_piece"], v["max_piece"] + 1):
                for i in range(0, len(w) - k + 1):
                    p = w[i:i + k] if i == 0 else "##" + w[i:i + k]
                    counts[p] = counts.get(p, 0) + 1
        ranked = sorted(counts.items(), key=lambda kv: (-kv[1] * len(kv[0].lstrip("#")), kv[0]))
        n = 0
        for p, _c in ranked:
            if p not in seen:
                add(p)
                n += 1
            if n >= v["pieces_per_language"]:
                break
    return vocab


def is_punct(ch):
    o = ord(ch)
    return (0x21 <= o <= 0x2F or 0x3A <= o <= 0x40 or 0x5B <= o <= 0x60 or 0x7B <= o <= 0x7E
            or unicodedata.category(ch).startswith("P"))


class WordPiece:
    def __init__(self, vocab):
        self.vocab = vocab
        self.ids = {t: i for i, t in enumerate(vocab)}

    def pieces(self, text):
        # special tokens written in the text are those tokens (added tokens are matched before normalizing)
        for sp in SPECIALS:
            if sp in text:
                parts = text.split(sp)
                out = self.pieces(parts[0])
                for part in parts[1:]:
                    out += [sp] + self.pieces(part)
                return out
        text = unicodedata.normalize("NFC", text).lower()
        words, cur = [], ""
        for ch in text.strip():
            if ch.isspace() or is_punct(ch):
                if cur:
                    words.append(cur)
                cur = ""
                if is_punct(ch):
                    words.append(ch)
            else:
                cur += ch
        if cur:
            words.append(cur)
        out = []
        for w in words:
            chars = list(w)
            if len(chars) > 100:
                out.append("[UNK]")
                continue
            start, sub = 0, []
            while start < len(chars):
                end, hit = len(chars), None
                while start < end:
                    s = "".join(chars[start:end])
                    if start > 0:
                        s = "##" + s
                    if s in self.ids:
                        hit = s
                        break
                    end -= 1
                if hit is None:
                    sub = None
                    break
                sub.append(hit)
                start = end
            out.extend(["[UNK]"] if sub is None else sub)
        return out

    def encode(self, text, pair=None):
        toks = ["[CLS]"] + self.pieces(text) + ["[SEP]"]
        if pair is not None:
            toks += self.pieces(pair) + ["[SEP]"]
        return [self.ids[t] for t in toks]


def tokenizer_json(vocab, max_length):
    special = lambda i, t: {"id": i, "content": t, "single_word": False, "lstrip": False,  # noqa: E731
                            "rstrip": False, "normalized": False, "special": True}
    ids = {t: i for i, t in enumerate(vocab)}
    return {
        "version": "1.0",
        "truncation": {"direction": "Right", "max_length": max_length, "strategy": "LongestFirst", "stride": 0},
        "padding": None,
        "added_tokens": [special(i, t) for i, t in enumerate(SPECIALS)],
        "normalizer": {"type": "Sequence", "normalizers": [{"type": "NFC"}, {"type": "Lowercase"}]},
        "pre_tokenizer": {"type": "BertPreTokenizer"},
        "post_processor": {
            "type": "TemplateProcessing",
            "single": [{"SpecialToken": {"id": "[CLS]", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}},
                       {"SpecialToken": {"id": "[SEP]", "type_id": 0}}],
            "pair": [{"SpecialToken": {"id": "[CLS]", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}},
                     {"SpecialToken": {"id": "[SEP]", "type_id": 0}}, {"Sequence": {"id": "B", "type_id": 1}},
                     {"SpecialToken": {"id": "[SEP]", "type_id": 1}}],
            "special_tokens": {t: {"id": t, "ids": [ids[t]], "tokens": [t]} for t in ["[CLS]", "[SEP]"]},
        },
        "decoder": {"type": "WordPiece", "prefix": "##", "cleanup": True},
        "model": {"type": "WordPiece", "unk_token": "[UNK]", "continuing_subword_prefix": "##",
                  "max_input_chars_per_word": 100, "vocab": ids},
    }


def tokenizer_config(max_length):
    return {
        "tokenizer_class": "BertTokenizerFast", "do_lower_case": True, "model_max_length": max_length,
        "padding_side": "right", "truncation_side": "right", "clean_up_tokenization_spaces": True,
        "pad_token": "[PAD]", "unk_token": "[UNK]", "cls_token": "[CLS]", "sep_token": "[SEP]",
        "model_input_names": ["input_ids", "attention_mask"],
    }


# ---------------------------------------------------------------------------
# Text generators
# ---------------------------------------------------------------------------
def lang_text(rng, pool, n):
    return " ".join(pool[i] for i in rng.randint(0, len(pool), size=n))


def lexicon_text(rng, topic, polarity, n_topic, n_sent, n_fill):
    ws = [TOPICS[topic][1][i] for i in rng.randint(0, len(TOPICS[topic][1]), size=n_topic)]
    ws += [SENTIMENT[polarity][1][i] for i in rng.randint(0, len(SENTIMENT[polarity][1]), size=n_sent)]
    ws += [FILLER[i] for i in rng.randint(0, len(FILLER), size=n_fill)]
    rng.shuffle(ws)
    return " ".join(ws)


def task_example(tid, rng, words, split):
    """One (text, pair or None, label)."""
    codes = [c for c, *_ in LANGS]
    if tid == "lang":
        y = rng.randint(4)
        return lang_text(rng, words[codes[y]][split], rng.randint(4, 8)), None, int(y)
    if tid == "topic":
        y = rng.randint(4)
        return lexicon_text(rng, y, rng.randint(2), rng.randint(1, 4), rng.randint(0, 2), rng.randint(2, 5)), None, int(y)
    if tid == "sentiment":
        y = rng.randint(2)
        return lexicon_text(rng, rng.randint(4), y, rng.randint(1, 3), rng.randint(1, 3), rng.randint(2, 5)), None, int(y)
    if tid == "sametopic":
        y = rng.randint(2)
        a = rng.randint(4)
        b = a if y == 1 else (a + 1 + rng.randint(3)) % 4
        return (lexicon_text(rng, a, rng.randint(2), rng.randint(1, 3), rng.randint(0, 2), rng.randint(1, 4)),
                lexicon_text(rng, b, rng.randint(2), rng.randint(1, 3), rng.randint(0, 2), rng.randint(1, 4)), int(y))
    if tid == "contains":
        y = rng.randint(2)
        src = pretext_source(rng, words, split)
        a = src(rng.randint(4, 7)).split()
        b = [a[i] for i in rng.permutation(len(a))[:rng.randint(2, 4)]]
        if y == 0:
            other = [w for w in src(8).split() if w.lower() not in {x.lower() for x in a}]
            if not other:
                return None
            b[rng.randint(len(b))] = other[0]
        return " ".join(a), " ".join(b), int(y)
    if tid == "samelang":
        y = rng.randint(2)
        a = rng.randint(4)
        b = a if y == 1 else (a + 1 + rng.randint(3)) % 4
        return (lang_text(rng, words[codes[a]][split], rng.randint(3, 6)),
                lang_text(rng, words[codes[b]][split], rng.randint(3, 6)), int(y))
    raise ValueError(tid)


def pretext_source(rng, words, split, s=None):
    """A text generator: one of the 4 languages' words (s 0..3) or lexicon texts of one topic (s 4..7)."""
    codes = [c for c, *_ in LANGS]
    if s is None:
        s = rng.randint(4) if rng.rand() < 0.6 else 4 + rng.randint(4)
    if s < 4:
        return lambda n: lang_text(rng, words[codes[s]][split], n)
    topic = s - 4
    return lambda n: lexicon_text(rng, topic, rng.randint(2), max(1, n // 2), rng.randint(0, 2), max(1, n - n // 2 - 1))


def scramble(rng, w):
    for _ in range(20):
        c = list(w)
        rng.shuffle(c)
        s = "".join(c)
        if s.lower() != w.lower():
            return s
    return w[::-1]


def pretext_example(rng, words, split):
    """Single texts: intact or with one word's letters shuffled. Pairs, as BERT's next-sentence
    prediction: a second text from the same source, from another source of the same kind (another
    language, another topic's lexicon), or the first text's words shuffled."""
    y = rng.randint(len(PRETEXT_CLASSES))
    s = rng.randint(4) if rng.rand() < 0.6 else 4 + rng.randint(4)
    src = pretext_source(rng, words, split, s)
    if y == 0:
        return src(rng.randint(3, 7)), None, 0
    if y == 1:
        ws = src(rng.randint(3, 7)).split()
        cand = [i for i, w in enumerate(ws) if len(w) >= 4]
        if not cand:
            return None
        i = cand[rng.randint(len(cand))]
        ws[i] = scramble(rng, ws[i])
        return " ".join(ws), None, 1
    a = src(rng.randint(3, 6))
    if y == 2:
        return a, src(rng.randint(3, 6)), 2
    if y == 3:
        return a, pretext_source(rng, words, split, (s // 4) * 4 + (s % 4 + 1 + rng.randint(3)) % 4)(rng.randint(3, 6)), 3
    b = a.split()
    rng.shuffle(b)
    return a, " ".join(b), 4


def make_set(gen, n, tok, max_length, exclude=None):
    """n distinct examples that fit max_length: (rows, ids [n,L] int64, mask, labels)."""
    rows, seen = [], set(exclude or ())
    while len(rows) < n:
        ex = gen()
        if ex is None:
            continue
        text, pair, y = ex
        key = (text.lower(), None if pair is None else pair.lower())
        if key in seen:
            continue
        ids = tok.encode(text, pair)
        if len(ids) > max_length:
            continue
        seen.add(key)
        rows.append((text, pair, y, ids))
    ids = np.zeros((n, max_length), dtype=np.int64)
    mask = np.zeros((n, max_length), dtype=np.int64)
    for i, r in enumerate(rows):
        ids[i, :len(r[3])] = r[3]
        mask[i, :len(r[3])] = 1
    labels = np.array([r[2] for r in rows], dtype=np.int64)
    return rows, torch.from_numpy(ids), torch.from_numpy(mask), torch.from_numpy(labels), seen


# ---------------------------------------------------------------------------
# Model
# ---------------------------------------------------------------------------
class Attention(nn.Module):
    def __init__(self, dim, heads):
        super().__init__()
        self.heads, self.dim, self.head_dim = heads, dim, dim // heads
        self.scale = self.head_dim ** -0.5
        self.q = nn.Linear(dim, dim)
        self.k = nn.Linear(dim, dim)
        self.v = nn.Linear(dim, dim)
        self.o = nn.Linear(dim, dim)

    def forward(self, x, bias):
        b, t = x.shape[0], x.shape[1]
        h, hd = self.heads, self.head_dim
        q = self.q(x).reshape(b, t, h, hd).transpose(1, 2)
        k = self.k(x).reshape(b, t, h, hd).transpose(1, 2)
        v = self.v(x).reshape(b, t, h, hd).transpose(1, 2)
        att = torch.softmax(torch.matmul(q * self.scale, k.transpose(-2, -1)) + bias, dim=-1)
        return self.o(torch.matmul(att, v).transpose(1, 2).reshape(b, t, self.dim))


class Mlp(nn.Module):
    def __init__(self, dim, hidden):
        super().__init__()
        self.fc1 = nn.Linear(dim, hidden)
        self.fc2 = nn.Linear(hidden, dim)

    def forward(self, x):
        return self.fc2(F.gelu(self.fc1(x)))


class Layer(nn.Module):
    def __init__(self, dim, heads, mlp):
        super().__init__()
        self.norm1 = nn.LayerNorm(dim)
        self.attn = Attention(dim, heads)
        self.norm2 = nn.LayerNorm(dim)
        self.mlp = Mlp(dim, mlp)

    def forward(self, x, bias):
        x = x + self.attn(self.norm1(x), bias)
        return x + self.mlp(self.norm2(x))


class Embeddings(nn.Module):
    def __init__(self, vocab, dim, max_length):
        super().__init__()
        self.tokens = nn.Embedding(vocab, dim)
        self.positions = nn.Embedding(max_length, dim)
        nn.init.normal_(self.tokens.weight, std=0.1)
        nn.init.normal_(self.positions.weight, std=0.02)

    def forward(self, ids):
        return self.tokens(ids) + self.positions.weight[: ids.shape[1]]


class TextClassifier(nn.Module):
    def __init__(self, vocab, max_length, dim, depth, heads, mlp, classes):
        super().__init__()
        self.embeddings = Embeddings(vocab, dim, max_length)
        self.layers = nn.ModuleList([Layer(dim, heads, mlp) for _ in range(depth)])
        self.norm = nn.LayerNorm(dim)
        self.classifier = nn.Linear(dim, classes)

    def forward(self, input_ids, attention_mask):
        x = self.embeddings(input_ids)
        m = attention_mask.to(x.dtype)
        bias = ((1.0 - m) * -10000.0).unsqueeze(1).unsqueeze(1)  # B,1,1,T: padded keys get no attention
        for layer in self.layers:
            x = layer(x, bias)
        x = self.norm(x)
        # masked mean over the real tokens ([CLS] and [SEP] included): padding never changes a result
        pooled = (x * m.unsqueeze(-1)).sum(1) / m.sum(1, keepdim=True)
        return self.classifier(pooled)


def make_model(cfg, vocab_size, classes):
    m = cfg["model"]
    return TextClassifier(vocab_size, cfg["max_length"], m["dim"], m["depth"], m["heads"], m["mlp"], classes)


class LoraLinear(nn.Module):
    """peft's LoRA on a frozen Linear: y = W x + b + (alpha / r) * B A x; A Kaiming-uniform, B zero."""

    def __init__(self, linear, r, alpha):
        super().__init__()
        self.linear = linear
        self.scale = alpha / r
        self.lora_A = nn.Parameter(torch.empty(r, linear.in_features))
        self.lora_B = nn.Parameter(torch.zeros(linear.out_features, r))
        nn.init.kaiming_uniform_(self.lora_A, a=math.sqrt(5))

    def forward(self, x):
        return self.linear(x) + (x @ self.lora_A.t() @ self.lora_B.t()) * self.scale


def add_lora(model, cfg):
    """Wrap the target Linears; returns {module path: LoraLinear}."""
    lc = cfg["lora"]
    found = {}
    for name, mod in list(model.named_modules()):
        for child, sub in list(mod.named_children()):
            path = (name + "." if name else "") + child
            if isinstance(sub, nn.Linear) and child in lc["targets"]:
                w = LoraLinear(sub, lc["r"], lc["alpha"])
                setattr(mod, child, w)
                found[path] = w
    return found


def lora_merged_weight(w, a, b, scale):
    """W + s·B·A in float32 in the order src/peft/lora.ts computes it (sum over k in order, each step
    rounded), so the studio's reconstruction of the adapter equals <task>.safetensors bit for bit."""
    w, a, b = (t.detach().numpy().astype(np.float32) for t in (w, a, b))
    acc = np.zeros_like(w)
    for k in range(a.shape[0]):
        acc = (acc + (b[:, k:k + 1] * a[k:k + 1, :]).astype(np.float32)).astype(np.float32)
    return torch.from_numpy((w + (np.float32(scale) * acc).astype(np.float32)).astype(np.float32))


# ---------------------------------------------------------------------------
# Training
# ---------------------------------------------------------------------------
def train(model, params, data, epochs, batch, lr, wd, warmup_frac, seed):
    """data: (ids, mask, labels), or a function of the epoch giving them (fresh examples each epoch)."""
    ids, mask, y = data(0) if callable(data) else data
    opt = torch.optim.AdamW(params, lr=lr, weight_decay=wd)
    g = torch.Generator().manual_seed(seed)
    steps_per = math.ceil(len(y) / batch)
    total, step = epochs * steps_per, 0
    model.train()
    tot = 0.0
    for e in range(epochs):
        if callable(data) and e > 0:
            ids, mask, y = data(e)
        perm = torch.randperm(len(y), generator=g)
        tot = 0.0
        for i in range(steps_per):
            idx = perm[i * batch:(i + 1) * batch]
            for grp in opt.param_groups:
                grp["lr"] = d8.lr_at(step, total, lr, warmup_frac)
            loss = F.cross_entropy(model(ids[idx], mask[idx]), y[idx])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            tot += float(loss) * len(idx)
            step += 1
    model.eval()
    return tot / len(y)


@torch.no_grad()
def accuracy(model, ids, mask, y):
    model.eval()
    return float((model(ids, mask).argmax(1) == y).float().mean())


# ---------------------------------------------------------------------------
# Export
# ---------------------------------------------------------------------------
def export_onnx(model, path, metadata, opset, max_length):
    import onnx
    from onnx import numpy_helper
    model.eval()
    buf = io.BytesIO()
    ids = torch.full((2, max_length), PAD, dtype=torch.int64)
    ids[:, 0] = CLS
    mask = torch.ones(2, max_length, dtype=torch.int64)
    torch.onnx.export(
        model, (ids, mask), buf, export_params=True, opset_version=opset, do_constant_folding=False,
        input_names=["input_ids", "attention_mask"], output_names=["logits"],
        dynamic_axes={"input_ids": {0: "batch", 1: "sequence"}, "attention_mask": {0: "batch", 1: "sequence"},
                      "logits": {0: "batch"}},
        keep_initializers_as_inputs=False,
    )
    m = onnx.load_from_string(buf.getvalue())
    m.producer_name = "pytorch"
    m.producer_version = torch.__version__
    m.doc_string = ""
    m.graph.doc_string = ""
    m.graph.name = "words4_text_classifier"
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
        assert list(inits[name].shape) == list(t.shape), "shape mismatch for %s" % name
        assert np.array_equal(inits[name], t.numpy()), "value mismatch for %s" % name
    extra = sorted(set(inits) - set(sd))
    assert not extra, "ONNX has initializers that are not state-dict tensors: %s" % extra
    assert [i.name for i in m.graph.input] == ["input_ids", "attention_mask"], [i.name for i in m.graph.input]
    assert [o.name for o in m.graph.output] == ["logits"]
    with open(path, "wb") as f:
        f.write(m.SerializeToString())
    return m


def run_onnx_numpy(m, feeds):
    """A numpy interpreter for the ops this graph uses, to check the exported numerics against torch."""
    from onnx import helper, numpy_helper, TensorProto
    env = {i.name: numpy_helper.to_array(i) for i in m.graph.initializer}
    env.update(feeds)
    np_types = {TensorProto.FLOAT: np.float32, TensorProto.INT64: np.int64, TensorProto.BOOL: np.bool_,
                TensorProto.INT32: np.int32}
    for node in m.graph.node:
        a = {at.name: helper.get_attribute_value(at) for at in node.attribute}
        i = [env[n] if n else None for n in node.input]
        op = node.op_type
        if op == "Cast":
            r = i[0].astype(np_types[a["to"]])
        elif op == "ReduceSum":
            axes = tuple(int(v) for v in i[1]) if len(i) > 1 and i[1] is not None else None
            r = i[0].sum(axis=axes, keepdims=bool(a.get("keepdims", 1)))
        else:
            r = _eval_common(node, a, i)
        outs = r if isinstance(r, tuple) else (r,)
        for name, val in zip(node.output, outs):
            env[name] = np.asarray(val)
    return env[m.graph.output[0].name]


def _eval_common(node, a, i):
    from onnx import numpy_helper
    op = node.op_type
    if op == "Constant":
        return numpy_helper.to_array(a["value"])
    if op == "Shape":
        return np.array(i[0].shape, dtype=np.int64)
    if op == "Gather":
        return np.take(i[0], i[1], axis=a.get("axis", 0))
    if op == "Unsqueeze":
        r = i[0]
        for ax in sorted(int(v) for v in i[1]):
            r = np.expand_dims(r, ax)
        return r
    if op == "Concat":
        return np.concatenate([np.atleast_1d(x) for x in i], axis=a["axis"])
    if op in ("Mul", "Add", "Sub", "Div", "Pow"):
        f = {"Mul": np.multiply, "Add": np.add, "Sub": np.subtract, "Div": np.divide, "Pow": np.power}[op]
        r = f(i[0], i[1])
        return r.astype(i[0].dtype) if i[0].dtype == np.float32 else r
    if op == "Sqrt":
        return np.sqrt(i[0])
    if op == "Erf":
        return np.vectorize(math.erf, otypes=[np.float64])(i[0]).astype(i[0].dtype)
    if op == "ReduceMean":
        return i[0].mean(axis=tuple(a["axes"]), keepdims=bool(a.get("keepdims", 1)))
    if op == "Reshape":
        shp = [int(v) for v in i[1]]
        shp = [i[0].shape[j] if v == 0 else v for j, v in enumerate(shp)]
        return i[0].reshape(shp)
    if op == "Transpose":
        return np.transpose(i[0], a.get("perm"))
    if op == "MatMul":
        return np.matmul(i[0], i[1])
    if op == "Gemm":
        A = i[0].T if a.get("transA", 0) else i[0]
        Bm = i[1].T if a.get("transB", 0) else i[1]
        return a.get("alpha", 1.0) * (A @ Bm) + (a.get("beta", 1.0) * i[2] if len(i) > 2 else 0)
    if op == "Softmax":
        z = i[0] - i[0].max(axis=a.get("axis", -1), keepdims=True)
        e = np.exp(z)
        return e / e.sum(axis=a.get("axis", -1), keepdims=True)
    if op == "LayerNormalization":
        ax = a.get("axis", -1)
        mu = i[0].mean(axis=ax, keepdims=True)
        var = ((i[0] - mu) ** 2).mean(axis=ax, keepdims=True)
        return (i[0] - mu) / np.sqrt(var + a.get("epsilon", 1e-5)) * i[1] + i[2]
    if op == "Slice":
        starts, ends = i[1], i[2]
        axes = i[3] if len(i) > 3 and i[3] is not None else range(len(starts))
        steps = i[4] if len(i) > 4 and i[4] is not None else [1] * len(starts)
        sl = [slice(None)] * i[0].ndim
        for s_, e_, ax_, st_ in zip(starts, ends, axes, steps):
            sl[int(ax_)] = slice(int(s_), int(e_) if e_ < 2 ** 62 else None, int(st_))
        return i[0][tuple(sl)]
    raise NotImplementedError("numpy ONNX check: op %s" % op)


def write_jsonl(path, rows):
    with open(path, "w", encoding="utf-8") as f:
        for text, pair, y, _ids in rows:
            o = {"text": text}
            if pair is not None:
                o["text_pair"] = pair
            o["label"] = int(y)
            f.write(json.dumps(o, ensure_ascii=False) + "\n")


def write_csv(path, rows, pair):
    with open(path, "w", encoding="utf-8", newline="") as f:
        w = csv.writer(f, quoting=csv.QUOTE_MINIMAL, lineterminator="\r\n")
        w.writerow(["text", "text_pair", "label"] if pair else ["text", "label"])
        for text, p, y, _ids in rows:
            w.writerow([text, p, int(y)] if pair else [text, int(y)])


# ---------------------------------------------------------------------------
# Main
# ---------------------------------------------------------------------------
def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default=os.path.join(REPO, "public", "zoo", ZOO))
    ap.add_argument("--no-export", action="store_true", help="train and report, write nothing")
    ap.add_argument("--base-cache", metavar="DIR", help="experiments only: reuse a pre-trained base from DIR")
    ap.add_argument("--set", action="append", default=[], metavar="KEY=JSON",
                    help="override a setting, e.g. --set finetune.lr=1e-3 (for experiments)")
    args = ap.parse_args()
    cfg = copy.deepcopy(CONFIG)
    for kv in args.set:
        k, v = kv.split("=", 1)
        d8.set_path(cfg, k, v)
    TASKS.append(PAIR_TASKS[cfg["pair_task"]])

    t_start = time.time()
    torch.set_num_threads(cfg["threads"])
    torch.set_num_interop_threads(1)
    torch.use_deterministic_algorithms(True)
    torch.manual_seed(cfg["seed"])
    np.random.seed(cfg["seed"])
    L = cfg["max_length"]

    words = load_words(cfg)
    for code, *_ in LANGS:
        print("%s: %d words kept for training, %d for evaluation" % (code, len(words[code]["train"]),
                                                                   len(words[code]["eval"])), flush=True)
    vocab = build_vocab(words, cfg)
    tok = WordPiece(vocab)
    print("vocabulary: %d tokens" % len(vocab), flush=True)

    # ---- data
    dc = cfg["data"]
    evals, trains = {}, {}
    for ti, (tid, *_r) in enumerate(TASKS):
        rng_e = np.random.RandomState(cfg["seed"] + 500 + ti)
        ev = make_set(lambda: task_example(tid, rng_e, words, "eval"), dc["eval"], tok, L)
        rng_t = np.random.RandomState(cfg["seed"] + 600 + ti)
        tr = make_set(lambda: task_example(tid, rng_t, words, "train"), dc["pair_train" if _r[-1] else "train"], tok,
                      L, exclude=ev[4])
        evals[tid], trains[tid] = ev[:4], tr[:4]
    rng_p = np.random.RandomState(cfg["seed"] + 700)
    pev = make_set(lambda: pretext_example(rng_p, words, "eval"), dc["pretext_eval"], tok, L)

    def ptr(e):  # fresh pretext examples every epoch
        rng = np.random.RandomState(cfg["seed"] + 1000 + e)
        return make_set(lambda: pretext_example(rng, words, "train"), dc["pretext_train"], tok, L,
                        exclude=pev[4])[1:4]
    unk = {tid: float((evals[tid][1] == UNK).sum()) / float(evals[tid][2].sum()) for tid in evals}
    print("eval [UNK] rate: " + " ".join("%s %.3f" % kv for kv in unk.items()), flush=True)

    # ---- pretext
    p = cfg["pretext"]
    torch.manual_seed(cfg["seed"] + 1)
    base = make_model(cfg, len(vocab), len(PRETEXT_CLASSES))
    nparams = sum(v.numel() for v in base.state_dict().values())
    print("model: %d parameters (%.1f kB fp32)" % (nparams, nparams * 4 / 1024), flush=True)
    t0 = time.time()
    cache = None
    if args.base_cache:
        import hashlib
        key = json.dumps(dict({k: cfg[k] for k in ["seed", "threads", "max_length", "model", "vocab", "data",
                                                    "pretext"]}, classes=PRETEXT_CLASSES), sort_keys=True)
        cache = os.path.join(args.base_cache, "words4-base-%s.pt" % hashlib.sha256(key.encode()).hexdigest()[:16])
    if cache and os.path.exists(cache):
        base.load_state_dict(torch.load(cache))
        loss = float("nan")
    else:
        loss = train(base, list(base.parameters()), ptr, p["epochs"], p["batch"], p["lr"], p["weight_decay"],
                     p["warmup_frac"], cfg["seed"] + 2)
        if cache:
            os.makedirs(args.base_cache, exist_ok=True)
            torch.save(base.state_dict(), cache)
    pre_acc = accuracy(base, *pev[1:4])
    print("pretext: loss %.4f, held-out acc %.4f, %.0fs" % (loss, pre_acc, time.time() - t0), flush=True)
    base_sd = {k: v.detach().clone() for k, v in base.state_dict().items()}

    # ---- LoRA fine-tuning per task
    f, lc = cfg["finetune"], cfg["lora"]
    task_sds, adapters, individual, lora_acc = [], [], {}, {}
    for ti, (tid, _title, _d, classes, _pair) in enumerate(TASKS):
        t0 = time.time()
        torch.manual_seed(cfg["seed"] + 100 + ti)
        model = make_model(cfg, len(vocab), len(classes))
        sd = {k: v.clone() for k, v in base_sd.items() if not k.startswith("classifier.")}
        sd["classifier.weight"] = model.classifier.weight.detach().clone()  # peft: a new head, default init
        sd["classifier.bias"] = model.classifier.bias.detach().clone()
        model.load_state_dict(sd)
        for p_ in model.parameters():
            p_.requires_grad_(False)
        loras = add_lora(model, cfg)
        params = [p_ for w in loras.values() for p_ in (w.lora_A, w.lora_B)] + list(model.classifier.parameters())
        for p_ in params:
            p_.requires_grad_(True)
        train(model, params, trains[tid][1:4], f["epochs"], f["batch"], f["lr"], f["weight_decay"],
              f["warmup_frac"], cfg["seed"] + 300 + ti)
        lora_acc[tid] = accuracy(model, *evals[tid][1:4])
        # the full fine-tune the adapter stands for: W + s·B·A, the head
        full = {k: v.clone() for k, v in base_sd.items() if not k.startswith("classifier.")}
        adapter = {}
        for path, w in loras.items():
            full[path + ".weight"] = lora_merged_weight(w.linear.weight, w.lora_A, w.lora_B, w.scale)
            adapter["base_model.model.%s.lora_A.weight" % path] = w.lora_A.detach().clone()
            adapter["base_model.model.%s.lora_B.weight" % path] = w.lora_B.detach().clone()
        for n_ in ["weight", "bias"]:
            full["classifier." + n_] = getattr(model.classifier, n_).detach().clone()
            adapter["base_model.model.classifier." + n_] = full["classifier." + n_]
        plain = make_model(cfg, len(vocab), len(classes))
        plain.load_state_dict(full)
        individual[tid] = accuracy(plain, *evals[tid][1:4])
        task_sds.append(full)
        adapters.append(adapter)
        print("task %-9s LoRA %.4f  merged-in %.4f  (%.0fs)" % (tid, lora_acc[tid], individual[tid],
                                                               time.time() - t0), flush=True)

    # ---- reference merges on the LoRA task vectors (tau = s·B·A on adapted weights, 0 elsewhere)
    names = d8.shared_names(base_sd, task_sds)
    assert "classifier.weight" not in names and "classifier.bias" not in names
    tv_norm = math.sqrt(sum(float(((t[n] - base_sd[n]) ** 2).sum()) for t in task_sds for n in names) / len(task_sds))
    w_norm = math.sqrt(sum(float((base_sd[n] ** 2).sum()) for n in names))
    adapted = sorted(n for n in names if any(not torch.equal(t[n], base_sd[n]) for t in task_sds))
    print("mean |tau| / |theta0| (L2, shared): %.4f; adapted tensors: %d of %d shared"
          % (tv_norm / w_norm, len(adapted), len(names)), flush=True)
    mc = cfg["merge"]
    T = len(TASKS)
    merged = {
        "avg": [d8.merge_avg(base_sd, task_sds, names)] * T,
        "ta": [d8.merge_ta(base_sd, task_sds, names, mc["ta_lambda"])] * T,
        "ties": [d8.merge_ties(base_sd, task_sds, names, mc["ties_k"], mc["ties_lambda"])] * T,
    }
    merged["emr"], emr_lambdas = d8.merge_emr(base_sd, task_sds, names)
    merged["pretrained"] = [{n: base_sd[n] for n in names}] * T
    results = {}
    for meth, sds in merged.items():
        results[meth] = {}
        for ti, (tid, _t, _d, classes, _p) in enumerate(TASKS):
            model = make_model(cfg, len(vocab), len(classes))
            sd = dict(task_sds[ti])
            sd.update(sds[ti])
            model.load_state_dict(sd)
            results[meth][tid] = accuracy(model, *evals[tid][1:4])
    ids_ = [t[0] for t in TASKS]
    ind_avg = float(np.mean([individual[t] for t in ids_]))

    def avg_of(d):
        return float(np.mean([d[t] for t in ids_]))

    print("%-10s %s   avg   norm" % ("", " ".join("%9s" % t for t in ids_)))
    print("%-10s %s %.4f" % ("individual", " ".join("%9.4f" % individual[t] for t in ids_), ind_avg))
    for meth in ["pretrained", "avg", "ta", "ties", "emr"]:
        r = results[meth]
        print("%-10s %s %.4f %.4f" % (meth, " ".join("%9.4f" % r[t] for t in ids_), avg_of(r),
                                      float(np.mean([r[t] / individual[t] for t in ids_]))))
    print("EMR lambdas: " + " ".join("%s=%.4f" % (t, l) for t, l in zip(ids_, emr_lambdas)))
    print("train+merge time %.0fs" % (time.time() - t_start), flush=True)
    if args.no_export:
        return

    # ---- export
    import onnx
    out = args.out
    for sub in ["eval", "adapters"]:
        os.makedirs(os.path.join(out, sub), exist_ok=True)
    rnd = lambda v: round(float(v), 6)  # noqa: E731

    def save_model(name, sd, classes, extra):
        model = make_model(cfg, len(vocab), len(classes))
        model.load_state_dict(sd)
        meta = {"zoo": ZOO, "model": name, "classes": json.dumps(classes), **extra}
        m = export_onnx(model, os.path.join(out, name + ".onnx"), meta, cfg["opset"], L)
        d8.write_safetensors(os.path.join(out, name + ".safetensors"), model.state_dict(), meta)
        back, _ = d8.read_safetensors(os.path.join(out, name + ".safetensors"))
        assert set(back) == set(sd) and all(np.array_equal(back[k], sd[k].numpy()) for k in sd)
        ev = evals[TASKS[0][0]]
        # a short batch (trailing padding cut) checks the dynamic sequence axis too
        n_tok = int(ev[2][:16].sum(1).max())
        ids, mask = ev[1][:16, :n_tok], ev[2][:16, :n_tok]
        with torch.no_grad():
            ref = model(ids, mask).numpy()
            full_len = model(ev[1][:16], ev[2][:16]).numpy()
        got = run_onnx_numpy(m, {"input_ids": ids.numpy(), "attention_mask": mask.numpy()})
        err = float(np.abs(got - ref).max())
        pad_err = float(np.abs(full_len - ref).max())
        assert got.shape == ref.shape and err < 1e-4 and pad_err < 1e-4, (name, err, pad_err)
        return max(err, pad_err)

    errs = {"base": save_model("base", base_sd, PRETEXT_CLASSES, {"role": "base"})}
    scale = lc["alpha"] / lc["r"]
    for ti, (tid, _t, _d, classes, pair) in enumerate(TASKS):
        errs[tid] = save_model(tid, task_sds[ti], classes, {"role": "task"})
        adir = os.path.join(out, "adapters", tid)
        os.makedirs(adir, exist_ok=True)
        d8.write_safetensors(os.path.join(adir, "adapter_model.safetensors"), adapters[ti], {"format": "pt"})
        acfg = {
            "alpha_pattern": {}, "auto_mapping": None, "base_model_name_or_path": "../../base.safetensors",
            "bias": "none", "fan_in_fan_out": False, "inference_mode": True, "init_lora_weights": True,
            "layers_pattern": None, "layers_to_transform": None, "lora_alpha": lc["alpha"], "lora_dropout": 0.0,
            "modules_to_save": ["classifier"], "peft_type": "LORA", "r": lc["r"], "rank_pattern": {},
            "revision": None, "target_modules": sorted(lc["targets"]), "task_type": "SEQ_CLS",
            "use_rslora": False,
        }
        with open(os.path.join(adir, "adapter_config.json"), "w", encoding="utf-8") as fh:
            json.dump(acfg, fh, indent=2, sort_keys=True)
            fh.write("\n")
        rows = evals[tid][0]
        write_jsonl(os.path.join(out, "eval", tid + ".jsonl"), rows)
        if pair:
            write_csv(os.path.join(out, "eval", tid + ".csv"), rows, pair)
    recon = 0.0
    for ti, (tid, *_r) in enumerate(TASKS):
        ad, _ = d8.read_safetensors(os.path.join(out, "adapters", tid, "adapter_model.safetensors"))
        full, _ = d8.read_safetensors(os.path.join(out, tid + ".safetensors"))
        for k in ad:
            if k.endswith(".lora_A.weight"):
                mod = k[len("base_model.model."):-len(".lora_A.weight")]
                w = torch.from_numpy(base_sd[mod + ".weight"].numpy())
                rw = lora_merged_weight(w, torch.from_numpy(ad[k].copy()),
                                        torch.from_numpy(ad[k.replace("lora_A", "lora_B")].copy()), scale)
                recon = max(recon, float(np.abs(rw.numpy() - full[mod + ".weight"]).max()))
    print("ONNX numpy check, max |logit diff| vs torch: %.2e; adapter reconstruction max diff %.1e"
          % (max(errs.values()), recon), flush=True)
    with open(os.path.join(out, "tokenizer.json"), "w", encoding="utf-8") as fh:
        json.dump(tokenizer_json(vocab, L), fh, indent=2, ensure_ascii=False)
        fh.write("\n")
    with open(os.path.join(out, "tokenizer_config.json"), "w", encoding="utf-8") as fh:
        json.dump(tokenizer_config(L), fh, indent=2)
        fh.write("\n")
    # the ids training used, for check_words4.mjs (the JS tokenizer must give exactly these)
    with open(os.path.join(out, "eval", "token-ids.json"), "w", encoding="utf-8") as fh:
        json.dump({tid: [r[3] for r in evals[tid][0]] for tid in ids_}, fh, separators=(",", ":"))
        fh.write("\n")

    write_manifest_and_readme(out, cfg, vocab, words, nparams, pre_acc, evals, individual, lora_acc, results,
                              emr_lambdas, names, adapted, base_sd, tv_norm / w_norm, unk, rnd)
    run_js_checks(out, [["node", "tools/zoo/check_words4.mjs"], ["node", "--import", "tsx", "tools/zoo/check_adapters.mjs"]],
                  cli_eval_lines(out))
    print("wrote %s in %.0fs" % (out, time.time() - t_start), flush=True)


def cli_eval_lines(out):
    """`merge-studio eval` on the adapters (merged by the CLI, run in ONNX Runtime) against the reference."""
    import subprocess
    man = json.load(open(os.path.join(out, "manifest.json"), encoding="utf-8"))
    rel = os.path.relpath(out, REPO)
    cmd = ["node", "bin/merge-studio.js", "eval", "--base", os.path.join(rel, man["base"]["safetensors"])]
    for t in man["tasks"]:
        cmd += ["--task", "%s=%s/%s" % (t["id"], rel, t["adapter"]), "--graph", "%s=%s/%s" % (t["id"], rel, t["onnx"]),
                "--eval", "%s=%s/%s" % (t["id"], rel, t.get("evalCsv", t["eval"]))]
    r = subprocess.run(cmd + ["--no-route", "--json"], cwd=REPO, capture_output=True, text=True)
    if r.returncode != 0:
        raise SystemExit("merge-studio eval failed: " + r.stderr)
    table = json.loads(r.stdout)
    ref = man["reference"]
    keys = {"Individual": ref["individual"], "Weight averaging": ref["methods"]["avg"],
            "Task Arithmetic": ref["methods"]["ta"], "TIES-Merging": ref["methods"]["ties"],
            "EMR-Merging": ref["methods"]["emr"]}
    worst = 0.0
    for row in table["rows"]:
        want = next(v for k, v in keys.items() if row["method"].startswith(k))["accuracy"]
        worst = max(worst, max(abs(a - want[t]) for a, t in zip(row["accuracy"], table["tasks"])))
    print("merge-studio eval vs reference: max |diff| %.4f" % worst, flush=True)
    return ["$ node bin/merge-studio.js eval --base %s/base.safetensors --task NAME=%s/adapters/NAME "
            "--graph NAME=%s/NAME.onnx --eval NAME=%s/eval/NAME.jsonl (the pair task's .csv) ... --no-route --json"
            % (rel, rel, rel, rel),
            "every cell (%d methods x %d tasks) is the reference table's above: max |difference| %.4f"
            % (len(table["rows"]), len(table["tasks"]), worst)]


def run_js_checks(out, commands, extra=()):
    """Runs the JavaScript-side checks on the written zoo and puts their output into its README."""
    import subprocess
    lines = []
    for cmd in commands:
        r = subprocess.run(cmd + [out], cwd=REPO, capture_output=True, text=True)
        print(r.stdout + r.stderr, flush=True)
        if r.returncode != 0:
            raise SystemExit("check failed: %s" % " ".join(cmd))
        lines.append("$ %s %s\n%s" % (" ".join(cmd), os.path.relpath(out, REPO), r.stdout.strip()))
    lines += list(extra)
    path = os.path.join(out, "README.md")
    with open(path, encoding="utf-8") as fh:
        text = fh.read()
    with open(path, "w", encoding="utf-8") as fh:
        fh.write(text.replace("CHECK_RESULTS", "```\n%s\n```" % "\n".join(lines)))


def write_manifest_and_readme(out, cfg, vocab, words, nparams, pre_acc, evals, individual, lora_acc, results,
                              emr_lambdas, names, adapted, base_sd, tv_rel, unk, rnd):
    import onnx
    ids_ = [t[0] for t in TASKS]
    lc, mc = cfg["lora"], cfg["merge"]

    def method_json(meth, params):
        r = results[meth]
        return {"params": params, "accuracy": {t: rnd(r[t]) for t in ids_}, "average": rnd(np.mean([r[t] for t in ids_])),
                "normalized": {t: rnd(r[t] / individual[t]) for t in ids_},
                "normalizedAverage": rnd(np.mean([r[t] / individual[t] for t in ids_]))}

    tasks_json = []
    for tid, title, desc, classes, pair in TASKS:
        e = {"id": tid, "title": title, "description": desc, "classes": classes, "pair": pair,
             "onnx": tid + ".onnx", "safetensors": tid + ".safetensors", "adapter": "adapters/" + tid,
             "eval": "eval/%s.jsonl" % tid, "evalSize": int(len(evals[tid][3])),
             "individualAccuracy": rnd(individual[tid]), "loraAccuracy": rnd(lora_acc[tid])}
        if pair:
            e["evalCsv"] = "eval/%s.csv" % tid
        tasks_json.append(e)
    manifest = {
        "name": ZOO,
        "description": ("A text miniature of LoRA merging: a tiny transformer text classifier (%d parameters, "
                        "WordPiece vocabulary of %d) pre-trained on a corruption-detection pretext task and "
                        "fine-tuned per task with LoRA (r=%d on %s, a new head via modules_to_save) on 4 tasks "
                        "built from Debian word lists and hand-written lexicons: language, topic, sentiment and a "
                        "text-pair task." % (nparams, len(vocab), lc["r"], "/".join(lc["targets"]))),
        "input": {"kind": "text", "tokenizer": "tokenizer.json", "tokenizerConfig": "tokenizer_config.json",
                  "maxLength": cfg["max_length"], "names": {"ids": "input_ids", "mask": "attention_mask"},
                  "dtype": "int64", "shape": [None, "sequence"],
                  "sequence": "dynamic, 1..maxLength (position embeddings for maxLength); padding with [PAD]=0 and "
                              "mask 0 never changes a result",
                  "padId": PAD},
        "output": {"name": "logits", "shape": [None, "classes"], "dtype": "float32"},
        "base": {"id": "base", "onnx": "base.onnx", "safetensors": "base.safetensors", "classes": PRETEXT_CLASSES,
                 "pretext": ("Corruption detection and next-sentence prediction, 5 classes, on texts from all "
                             "sources (training words of each of the 4 languages, 60%; lexicon texts of one topic, "
                             "40%), with no task labels, fresh examples every epoch: a text as it is; a text with "
                             "one word's letters shuffled; a pair (text, another text of the same source); a pair "
                             "(text, a text of another source of the same kind: another language, or another "
                             "topic's lexicon); a pair (text, its own words shuffled)."),
                 "pretextAccuracy": rnd(pre_acc)},
        "tasks": tasks_json,
        "reference": {
            "sharedTensors": len(names),
            "sharedParameters": int(sum(base_sd[n].numel() for n in names)),
            "adaptedTensors": adapted,
            "taskSpecific": ["classifier.weight", "classifier.bias"],
            "taskVectors": "tau = (lora_alpha / r) * B @ A on each adapted weight (computed in float32 in the order "
                           "src/peft/lora.ts uses), 0 on every other shared tensor",
            "individual": {"accuracy": {t: rnd(individual[t]) for t in ids_},
                           "average": rnd(np.mean([individual[t] for t in ids_]))},
            "methods": {
                "pretrained": method_json("pretrained", {"note": "base backbone with each task's own head"}),
                "avg": method_json("avg", {}),
                "ta": method_json("ta", {"lambda": mc["ta_lambda"]}),
                "ties": method_json("ties", {"k": mc["ties_k"], "lambda": mc["ties_lambda"],
                                             "trim": "as digits-8 (whole model, torch.kthvalue)"}),
                "emr": dict(method_json("emr", {}), lambdas={t: rnd(l) for t, l in zip(ids_, emr_lambdas)}),
            },
            "taskVectorRelativeNorm": rnd(tv_rel),
        },
        "training": {
            "seed": cfg["seed"], "threads": cfg["threads"], "deterministicAlgorithms": True,
            "data": {"words": {c: {"source": "/usr/share/dict/%s (Debian %s)" % (os.path.basename(p), k),
                                   "train": len(words[c]["train"]), "eval": len(words[c]["eval"])}
                               for c, _n, p, k in LANGS},
                     "wordFilter": "3-10 letters (str.isalpha), NFC; lowercase only except German (no all-caps); "
                                   "words whose lowercase form is in another language's list or in the lexicons "
                                   "removed; 20% of each language's words held out for the evaluation sets",
                     "train": cfg["data"]["train"], "eval": cfg["data"]["eval"],
                     "evalUnkRate": {t: rnd(v) for t, v in unk.items()}},
            "model": dict(cfg["model"], maxLength=cfg["max_length"], vocab=len(vocab), parameters=nparams,
                          layout="token + position embeddings, pre-norm encoder layers (LayerNorm -> MHSA with "
                                 "q/k/v/o Linears and an additive -10000 key mask; LayerNorm -> MLP Linear, GELU, "
                                 "Linear), final LayerNorm, masked mean pooling, Linear classifier"),
            "pretext": cfg["pretext"],
            "lora": dict(lc, dropout=0.0, init="A Kaiming-uniform (a=sqrt(5)), B zero (peft's default)",
                         trainable="lora_A, lora_B of the targets and the new classifier (modules_to_save)"),
            "finetune": dict(cfg["finetune"], optimizer="AdamW, cosine schedule with linear warmup"),
            "merge": mc,
        },
        "generator": {
            "script": SCRIPT_REL, "command": "/usr/bin/python3 " + SCRIPT_REL,
            "python": platform.python_version(), "torch": torch.__version__, "numpy": np.__version__,
            "onnx": onnx.__version__, "opset": cfg["opset"],
            "onnxExport": "torch.onnx.export(do_constant_folding=False, dynamic batch and sequence axes); "
                          "initializer names == state-dict names (asserted)",
        },
    }
    with open(os.path.join(out, "manifest.json"), "w", encoding="utf-8") as fh:
        json.dump(manifest, fh, indent=2, ensure_ascii=False)
        fh.write("\n")
    write_readme(out, cfg, manifest, nparams, len(vocab))


def write_readme(out, cfg, man, nparams, nvocab):
    ids = [t["id"] for t in man["tasks"]]
    ref = man["reference"]
    ind = ref["individual"]["accuracy"]
    rows = [("Individual (LoRA merged into the base)", ind, ref["individual"]["average"], None)]
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
    lam = ref["methods"]["emr"]["lambdas"]
    task_lines = "\n".join("| `%s` | %s | %s | %s |" % (t["id"], t["title"], " / ".join(t["classes"]),
                                                         t["description"]) for t in man["tasks"])
    words = man["training"]["data"]["words"]
    text = README_TEMPLATE.format(
        nparams=nparams, kb=nparams * 4 / 1024, nvocab=nvocab, table="\n".join(table), task_lines=task_lines,
        lambdas=", ".join("%s %.3f" % (k, v) for k, v in lam.items()), m=cfg["model"], L=cfg["max_length"],
        p=cfg["pretext"], f=cfg["finetune"], lc=cfg["lora"], targets=", ".join(cfg["lora"]["targets"]),
        scale=cfg["lora"]["alpha"] / cfg["lora"]["r"], opset=cfg["opset"], tvnorm=ref["taskVectorRelativeNorm"],
        pre_acc=man["base"]["pretextAccuracy"], torch=torch.__version__, script=SCRIPT_REL, seed=cfg["seed"],
        d=cfg["data"], adapted=len(ref["adaptedTensors"]), shared=ref["sharedTensors"],
        words=", ".join("%s %d/%d" % (c, w["train"], w["eval"]) for c, w in words.items()),
    )
    with open(os.path.join(out, "README.md"), "w", encoding="utf-8") as fh:
        fh.write(text)


README_TEMPLATE = """# words-4 — the text demo: merging LoRA adapters of a small language model

A text counterpart of `digits-8`: a tiny transformer text classifier and four
LoRA fine-tunes of it, small enough to ship with the app. Generated by
[`{script}`](../../../{script}); CI never trains, it uses the committed files.
Do not edit these files by hand.

* `tokenizer.json`, `tokenizer_config.json` — a Hugging Face `tokenizers`
  WordPiece tokenizer ({nvocab} tokens): normalizer NFC + Lowercase,
  `BertPreTokenizer`, `[CLS] A [SEP]` / `[CLS] A [SEP] B [SEP]`
  (TemplateProcessing), `[PAD]`=0 `[UNK]`=1 `[CLS]`=2 `[SEP]`=3.
* `base.onnx`, `base.safetensors` — the pre-trained model ({nparams}
  parameters, {kb:.0f} kB in fp32), pretext head `classifier` with 5 classes
  (held-out pretext accuracy {pre_acc:.3f}).
* `adapters/<task>/adapter_config.json`, `adapters/<task>/adapter_model.safetensors`
  — each task's LoRA adapter as Hugging Face `peft` saves it (see below).
  This is what a user merges: `--base base.safetensors --task NAME=adapters/NAME`.
* `<task>.onnx`, `<task>.safetensors` — the full model each adapter stands for
  (W + (alpha/r)·B·A on the adapted weights, the task's own head), so the
  studio can run the individual model and splice merged weights into its graph.
* `eval/<task>.jsonl` — {d[eval]} labeled held-out examples per task, one JSON
  object a line: `{{"text": …, "label": n}}`, or for the pair task
  `{{"text": …, "text_pair": …, "label": n}}`. `eval/samelang.csv` is the pair
  task's set again as CSV (header `text,text_pair,label`, RFC 4180, CRLF).
  `eval/token-ids.json` holds the token ids training used for every
  evaluation example (what `tools/zoo/check_words4.mjs` compares the JS
  tokenizer against).
* `manifest.json` — input, tasks, classes, file names, settings and the
  reference accuracies below.

## Tasks

| Task | Title | Classes | Data |
|---|---|---|---|
{task_lines}

Data: Debian word lists `wamerican`, `wngerman`, `wfrench`, `wspanish`
(`/usr/share/dict/*`), words of 3-10 letters that occur in only one of the
four lists; 20 % of each language's words are held out and only they appear
in the evaluation sets (train/eval words: {words}). Topic and sentiment texts
are built from word lists written into the script (4 × 20 topic words,
2 × 20 sentiment words, 40 English fillers) and never repeat a training text.

## Model and inputs
Inputs `input_ids` and `attention_mask`, int64 `[batch, sequence]`, output
`logits` float32 `[batch, classes]`, ONNX opset {opset}. Both axes are
dynamic; the sequence may be 1..{L} tokens (there are {L} position
embeddings: truncate longer inputs to {L}, keeping the special tokens, as
`transformers` does with `truncation=True`). Padding to any length with
`[PAD]` (0) and mask 0 does not change the logits (padded keys get a −10000
attention bias, pooling is a masked mean). Every ONNX initializer has the
name and shape of the safetensors tensor (`do_constant_folding=False`; the
script asserts it). Layout: token + position embeddings (dim {m[dim]}),
{m[depth]} pre-norm encoder layers ({m[heads]} heads, separate `q`, `k`, `v`,
`o` Linears, MLP {m[mlp]} with GELU), final LayerNorm, masked mean pooling,
`classifier` Linear.

## The adapters (peft format)
`adapter_config.json`: `peft_type` LORA, `r` {lc[r]}, `lora_alpha`
{lc[alpha]} (scale {scale:g}), `target_modules` [{targets}],
`fan_in_fan_out` false, `modules_to_save` ["classifier"], `task_type`
SEQ_CLS, `base_model_name_or_path` "../../base.safetensors".
`adapter_model.safetensors` uses peft's saved names (what `save_pretrained`
writes, adapter name stripped): `base_model.model.<module>.lora_A.weight`
`[r, in]`, `base_model.model.<module>.lora_B.weight` `[out, r]`, and the
`modules_to_save` head as `base_model.model.classifier.weight` / `.bias`
(peft's `get_peft_model_state_dict` turns `classifier.modules_to_save.default.weight`
into `classifier.weight`). These are the names `src/peft/lora.ts` reads. Its
reconstruction W + s·B·A of every adapted weight equals the weight in
`<task>.safetensors` exactly (the script computes it in the same float32
order and checks it; max diff 0).

## Reference accuracies (held-out evaluation sets, %)
Computed by the generating script with plain torch from the formulas of docs/architecture.md#emr-semantics
on the LoRA task vectors: τ = (alpha/r)·B·A on the {adapted} adapted tensors
and 0 on the other shared tensors ({shared} shared in all, i.e. everything
but the heads); each task's merged model is evaluated with its own head.
"Normalized" is the mean over tasks of merged / individual accuracy.

{table}

EMR rescalers λ_t: {lambdas}.
Mean task-vector L2 norm relative to the base's shared weights: {tvnorm:.4f}.
TIES trims over all shared tensors together, as digits-8 documents.

## Settings
* Seed {seed}; `torch.use_deterministic_algorithms(True)`, one thread.
* Pretext: {d[pretext_train]} fresh texts every epoch, {p[epochs]} epochs, batch
  {p[batch]}, AdamW lr {p[lr]:g}, weight decay {p[weight_decay]:g}, cosine
  schedule; 5 classes, corruption detection and BERT-style next-sentence
  prediction: a text as it is / with one word's letters shuffled / a pair
  (text, another text of the same source) / a pair (text, a text of another
  source of the same kind: another language, or another topic's lexicon) / a
  pair (text, its own words shuffled). Sources: the 4 languages' training
  words (60 %) or the lexicon texts of one topic (40 %); no task labels are
  used. (The pair classes give the base the cross-text features a LoRA
  adapter of rank {lc[r]} could not learn from scratch: with a pretext
  without them, the same-language task stayed near chance.)
* Fine-tuning per task: {d[train]} examples ({d[pair_train]} for the pair task), LoRA r={lc[r]}, alpha={lc[alpha]}
  on [{targets}] of both layers, a new `classifier` (PyTorch's default
  Linear init), everything else frozen; {f[epochs]} epochs, batch {f[batch]},
  AdamW lr {f[lr]:g}, cosine schedule.

## Regenerating
```
apt-get install -y python3-torch python3-onnx python3-sklearn wamerican wngerman wfrench wspanish
/usr/bin/python3 {script}
node tools/zoo/check_words4.mjs   # the JS tokenizer and ONNX Runtime against the Python side
```
(Debian 12: torch {torch}; a few minutes on one core.) Experiments:
`--no-export` trains and prints the table without writing anything,
`--set finetune.lr=1e-3` overrides a setting, `--out DIR` writes elsewhere.
Another CPU, torch or BLAS build may round differently during training; the
committed files are the reference.

## Tokenizer and adapter checks
The script writes the ids its own WordPiece implementation gave every
evaluation example into `eval/token-ids.json`, then runs three checks and
stops if one of the first two fails. `tools/zoo/check_words4.mjs` loads `tokenizer.json` +
`tokenizer_config.json` with `@huggingface/tokenizers` 0.2.0 (the studio's
copy; `TOKENIZERS=/path/to/tokenizers.mjs` picks another) and compares the
ids of every evaluation example (text and pair), then runs each task's ONNX
graph in ONNX Runtime (onnxruntime-web, WebAssembly, in Node) on its set,
padded to {L}, and compares the accuracy with the manifest.
`tools/zoo/check_adapters.mjs` reads every adapter over `base.safetensors`
with `src/peft/lora.ts` and compares it with `<task>.safetensors`. Last, the
CLI merges the adapters and evaluates every method on every set in ONNX
Runtime (`merge-studio eval`), and its table is compared with the reference
table above. Their output when these files were written:

CHECK_RESULTS

The tokenizer's pieces are NFC + lowercase, split at whitespace and at
punctuation (Unicode P* and ASCII symbols), then greedy longest-match
WordPiece with `##` continuations; special tokens written in a text
(`[SEP]`) are those tokens. Letters outside the vocabulary make the whole
word `[UNK]`.
"""


if __name__ == "__main__":
    main()
