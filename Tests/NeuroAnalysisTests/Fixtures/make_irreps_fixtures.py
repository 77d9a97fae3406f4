"""Writes the fixture of the irreps logit-similarity test from a model trained on S_4.

Run once with a Python that has torch, "transformer-lens<4" and safetensors:

    python Tests/NeuroAnalysisTests/Fixtures/make_irreps_fixtures.py

irreps_s4_model.safetensors is a small transformer (1 layer, 2 heads, d_model 32, d_mlp 64,
ReLU, no LayerNorm) trained by NeuroMap on group(n: 4, train: 0.6, seed: 0) for 300 epochs
(lr 1e-2, wd 1). This script runs it in TransformerLens on every pair (a, b) in the dataset's
order — permutations of 0..3 in lexicographic order, a-major, tokens [a, b, 24] — and measures,
from the logits at the last position and characters computed here from cycle types (not from
any representation matrices), the logit similarity of each irreducible representation: the
cosine over (a, b, c) between the logits centred over c and chi(a.b.c^-1), with
(a.b)(i) = a(b(i)). It writes irreps_s4_expected.safetensors:

  logit_similarity   float64 [5], representations in the order [4], [3,1], [2,2], [2,1,1], [1,1,1,1]
  logits             float32 [576, 24], the last position's logits
"""
import itertools
import json
import os

import numpy as np
import torch
from safetensors.torch import load_file, save_file
from transformer_lens import HookedTransformer, HookedTransformerConfig

here = os.path.dirname(os.path.abspath(__file__))
weights = load_file(os.path.join(here, "irreps_s4_model.safetensors"))
cfg = HookedTransformerConfig(n_layers=1, n_heads=2, d_model=32, d_head=16, d_mlp=64, act_fn="relu",
                              normalization_type=None, d_vocab=25, d_vocab_out=24, n_ctx=3)
model = HookedTransformer(cfg)
state = model.state_dict()
for name, tensor in weights.items():
    if name in state and "mask" not in name and "IGNORE" not in name:
        state[name] = tensor
model.load_state_dict(state)

perms = list(itertools.permutations(range(4)))
index = {p: i for i, p in enumerate(perms)}
n = len(perms)
tokens = torch.tensor([[a, b, n] for a in range(n) for b in range(n)])
with torch.no_grad():
    logits = model(tokens)[:, -1, :].double().numpy()          # [576, 24]


def compose(p, q):   # (p . q)(i) = p(q(i))
    return tuple(p[q[i]] for i in range(4))


def inverse(p):
    out = [0] * 4
    for i, image in enumerate(p):
        out[image] = i
    return tuple(out)


def cycle_type(p):
    seen, lengths = set(), []
    for start in range(4):
        if start in seen:
            continue
        length, i = 0, start
        while i not in seen:
            seen.add(i)
            i = p[i]
            length += 1
        lengths.append(length)
    return tuple(sorted(lengths, reverse=True))


# The character table of S_4 by cycle type (standard; the sign is (-1)^(4 - number of cycles)).
table = {
    (1, 1, 1, 1): [1, 3, 2, 3, 1],
    (2, 1, 1):    [1, 1, 0, -1, -1],
    (2, 2):       [1, -1, 2, -1, 1],
    (3, 1):       [1, 0, -1, 0, 1],
    (4,):         [1, -1, 0, 1, -1],
}
centred = logits - logits.mean(axis=1, keepdims=True)
similarity = []
for r in range(5):
    chi = np.zeros_like(centred)
    for a in range(n):
        for b in range(n):
            ab = compose(perms[a], perms[b])
            for c in range(n):
                chi[a * n + b, c] = table[cycle_type(compose(ab, inverse(perms[c])))][r]
    norm = np.linalg.norm(centred) * np.linalg.norm(chi)
    similarity.append(float((centred * chi).sum() / norm) if norm > 0 else 0.0)
print("logit similarity [4] [3,1] [2,2] [2,1,1] [1,1,1,1]:", np.round(similarity, 6))
save_file({"logit_similarity": torch.tensor(similarity, dtype=torch.float64),
           "logits": torch.tensor(logits, dtype=torch.float32)},
          os.path.join(here, "irreps_s4_expected.safetensors"),
          metadata={"about": json.dumps("logit similarity of a NeuroMap-trained S_4 model, computed in TransformerLens")})
