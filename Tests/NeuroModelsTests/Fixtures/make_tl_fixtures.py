"""Writes the TransformerLens parity fixtures for NeuroModelsTests.

Run from anywhere with a Python that has torch, "transformer-lens<4" and safetensors:

    pip install torch "transformer-lens<4" safetensors
    python Tests/NeuroModelsTests/Fixtures/make_tl_fixtures.py

For each case it writes two files next to this script:

  tl_<case>.safetensors           model.state_dict() saved with safetensors.torch.save_file,
                                  exactly as a user would (it includes TransformerLens's
                                  buffers blocks.N.attn.mask, bool [0, 0], and
                                  blocks.N.attn.IGNORE, float32 scalar -inf).
  tl_<case>_expected.safetensors  what TransformerLens computes from those weights:
      tokens, labels                  int64 [batch, pos], [batch]
      logits                          float32 [batch, pos, d_vocab_out]
      cache.<hook name>               every activation of run_with_cache(cache_tokens)
      cache_tokens                    the rows the cache was taken on (a prefix of tokens)
      loss                            float64 scalar, -log_softmax(logits[:, -1].double())[label].mean()
      grad.<param>                    d loss / d param for every trainable parameter
      adamw10.<param>                 the parameter after 10 full-batch AdamW steps
                                      (only parameters that train; frozen ones do not move)
    metadata: hooks (cache order, comma separated), act_fn, normalization_type, lr,
    weight_decay, beta1, beta2, steps, frozen (comma separated frozen parameter names).

Cases:
  small      2 layers, LayerNorm, gelu; LN weights and every bias set to random non-trivial
             values so bias and LayerNorm bugs show.
  grok       the grokking demo (p=113, 1 layer, d_model 128, 4 heads, relu, no LayerNorm,
             biases frozen, AdamW lr 1e-3 wd 1 betas (0.9, 0.98)) on 64 seeded (a, b, =)
             rows; the cache is stored for the first 8 rows to keep the file small.
  attn_only  1 layer, attention only, LNPre.
"""
import importlib.metadata
import os

import torch
from safetensors.torch import save_file
from transformer_lens import HookedTransformer, HookedTransformerConfig

HERE = os.path.dirname(os.path.abspath(__file__))
torch.set_num_threads(1)


def build_small():
    cfg = HookedTransformerConfig(n_layers=2, n_heads=2, d_model=8, d_head=4, d_mlp=16, act_fn="gelu",
                                  normalization_type="LN", d_vocab=10, d_vocab_out=10, n_ctx=5,
                                  seed=1234, device="cpu")
    model = HookedTransformer(cfg)
    g = torch.Generator().manual_seed(4321)
    with torch.no_grad():
        for name, p in model.named_parameters():
            leaf = name.split(".")[-1]
            if leaf == "w":                       # LayerNorm weights around 1
                p.copy_(1 + 0.3 * torch.randn(p.shape, generator=g))
            elif leaf == "b" or leaf.startswith("b_"):
                p.copy_(0.2 * torch.randn(p.shape, generator=g))
    tokens = torch.randint(0, 10, (3, 4), generator=g)
    labels = torch.randint(0, 10, (3,), generator=g)
    return dict(model=model, tokens=tokens, labels=labels, cache_rows=3, frozen=set(),
                lr=1e-2, wd=0.1, betas=(0.9, 0.98))


def build_grok():
    p = 113
    cfg = HookedTransformerConfig(n_layers=1, n_heads=4, d_model=128, d_head=32, d_mlp=512, act_fn="relu",
                                  normalization_type=None, d_vocab=p + 1, d_vocab_out=p, n_ctx=3,
                                  init_weights=True, device="cpu", seed=999)
    model = HookedTransformer(cfg)
    g = torch.Generator().manual_seed(598)
    idx = torch.randperm(p * p, generator=g)[:64]
    a, b = idx // p, idx % p
    tokens = torch.stack([a, b, torch.full_like(a, p)], 1)
    labels = (a + b) % p
    frozen = {n for n, _ in model.named_parameters() if "b_" in n}
    return dict(model=model, tokens=tokens, labels=labels, cache_rows=8, frozen=frozen,
                lr=1e-3, wd=1.0, betas=(0.9, 0.98))


def build_attn_only():
    cfg = HookedTransformerConfig(n_layers=1, n_heads=2, d_model=8, d_head=4, attn_only=True,
                                  normalization_type="LNPre", d_vocab=7, d_vocab_out=5, n_ctx=4,
                                  seed=77, device="cpu")
    model = HookedTransformer(cfg)
    g = torch.Generator().manual_seed(78)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.split(".")[-1].startswith("b_"):
                p.copy_(0.2 * torch.randn(p.shape, generator=g))
    tokens = torch.randint(0, 7, (2, 4), generator=g)
    labels = torch.randint(0, 5, (2,), generator=g)
    return dict(model=model, tokens=tokens, labels=labels, cache_rows=2, frozen=set(),
                lr=1e-2, wd=0.1, betas=(0.9, 0.98))


def loss_fn(logits, labels):
    """The grokking demo's loss: last position, float64."""
    logp = logits[:, -1].to(torch.float64).log_softmax(-1)
    return -logp.gather(-1, labels[:, None])[:, 0].mean()


def write_case(name, case, steps=10):
    model, tokens, labels = case["model"], case["tokens"], case["labels"]
    for n, p in model.named_parameters():
        p.requires_grad_(n not in case["frozen"])
    save_file(model.state_dict(), os.path.join(HERE, f"tl_{name}.safetensors"))

    out = {"tokens": tokens.clone(), "labels": labels.clone()}
    cache_tokens = tokens[: case["cache_rows"]]
    with torch.no_grad():
        _, cache = model.run_with_cache(cache_tokens)
    out["cache_tokens"] = cache_tokens.clone()
    for hook, value in cache.items():
        out[f"cache.{hook}"] = value.detach().clone().contiguous()

    logits = model(tokens)
    loss = loss_fn(logits, labels)
    loss.backward()
    out["logits"] = logits.detach().clone()
    out["loss"] = loss.detach().clone()
    for n, p in model.named_parameters():
        if p.requires_grad:
            out[f"grad.{n}"] = p.grad.detach().clone()

    b1, b2 = case["betas"]
    opt = torch.optim.AdamW(model.parameters(), lr=case["lr"], weight_decay=case["wd"], betas=(b1, b2))
    for step in range(steps):
        if step > 0:
            loss_fn(model(tokens), labels).backward()
        opt.step()
        opt.zero_grad()
    for n, p in model.named_parameters():
        if p.requires_grad:
            out[f"adamw10.{n}"] = p.detach().clone()

    cfg = model.cfg
    metadata = {
        "hooks": ",".join(cache.keys()),
        "act_fn": cfg.act_fn or "",
        "normalization_type": cfg.normalization_type or "none",
        "lr": repr(case["lr"]), "weight_decay": repr(case["wd"]), "beta1": repr(b1), "beta2": repr(b2),
        "steps": str(steps),
        "frozen": ",".join(sorted(case["frozen"])),
        "transformer_lens": importlib.metadata.version("transformer-lens"),
        "torch": torch.__version__,
    }
    save_file(out, os.path.join(HERE, f"tl_{name}_expected.safetensors"), metadata=metadata)
    print(f"{name}: loss {loss.item():.6f}, {len(cache)} hooks, "
          f"{sum(p.numel() for p in model.parameters())} params")


if __name__ == "__main__":
    for name, build in [("small", build_small), ("grok", build_grok), ("attn_only", build_attn_only)]:
        write_case(name, build())
