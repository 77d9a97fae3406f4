"""Writes the TransformerLens fixture for the residual-stream decomposition and factored-matrix tests.

Run once from anywhere with a Python that has torch, "transformer-lens<4" and safetensors:

    python Tests/NeuroAnalysisTests/Fixtures/make_residual_fixtures.py

It loads two models of NeuroModelsTests (made by Tests/NeuroModelsTests/Fixtures/make_tl_fixtures.py):
`small` (2 layers, 2 heads, LayerNorm with non-trivial weights and biases, gelu) and `attn_only`
(1 layer, attention only, LNPre), plus `plain`, a 2-layer attention-only model without any
normalization made here from a seed, and writes tl_residual_<case>.safetensors next to this script:

  model.<param>                  the model's parameters (TransformerLens names; buffers left out)
  tokens                         int64 [batch, pos]
  answer, wrong                  int64 [batch]: tokens for logit_attrs
  result.<L>                     blocks.L.attn.hook_result with use_attn_result=True [batch, pos, head, d_model]
  decompose.<variant>            cache.decompose_resid(...)         (labels in metadata under the same key)
  accumulated.<variant>          cache.accumulated_resid(...)
  heads.<variant>                cache.stack_head_results(...)
  logit_attrs.<variant>          cache.logit_attrs(stack, tokens, incorrect_tokens, pos_slice)
  ov.S, ov.norm, ov.AB01         model.OV singular values [layer, head, d_head], Frobenius norms, OV[0, 1].AB
  ov.eig_real, ov.eig_imag       model.OV.eigenvalues [layer, head, d_head], split in real and imaginary parts
  qk.S, qk.norm, qk.eig_real, qk.eig_imag   the same for model.QK
  prod.S, prod.eig_real, prod.eig_imag      (OV[0, 0] @ QK[-1, 1]): a product of two factored matrices

Variants (arguments as TransformerLens spells them):
  decompose.all          decompose_resid()                       decompose.all_ln   apply_ln=True
  decompose.attn_l1      decompose_resid(layer=1, mode="attn")   decompose.mlp_pos  mode="mlp", pos_slice=-1
  decompose.noembed_ln   decompose_resid(layer=1, incl_embeds=False, apply_ln=True)
  accumulated.all        accumulated_resid()                     accumulated.all_ln apply_ln=True
  accumulated.l1_mid     accumulated_resid(layer=1, incl_mid=True)      (not for attention-only models)
  accumulated.l1_ln      accumulated_resid(layer=1, apply_ln=True, pos_slice=-1)
  heads.all              stack_head_results()                    heads.all_ln       apply_ln=True
  heads.l1_pos           stack_head_results(layer=1, pos_slice=-1)
  logit_attrs.diff       logit_attrs(decompose_resid(pos_slice=-1), answer, wrong, pos_slice=-1)
  logit_attrs.answer     logit_attrs(stack_head_results(pos_slice=-1), answer, pos_slice=-1)
"""
import importlib.metadata
import os

import torch
from safetensors.torch import load_file, save_file
from transformer_lens import HookedTransformer, HookedTransformerConfig

HERE = os.path.dirname(os.path.abspath(__file__))
MODELS = os.path.join(HERE, "..", "..", "NeuroModelsTests", "Fixtures")
torch.set_num_threads(1)


def loaded(cfg, name):
    model = HookedTransformer(cfg)
    state = {k: v for k, v in load_file(os.path.join(MODELS, f"tl_{name}.safetensors")).items()
             if not k.endswith(".attn.mask") and not k.endswith(".attn.IGNORE")}
    model.load_state_dict(state, strict=False)
    model.eval()
    return model


def small():
    cfg = HookedTransformerConfig(n_layers=2, n_heads=2, d_model=8, d_head=4, d_mlp=16, act_fn="gelu",
                                  normalization_type="LN", d_vocab=10, d_vocab_out=10, n_ctx=5,
                                  seed=1234, device="cpu")
    return loaded(cfg, "small")


def attn_only():
    cfg = HookedTransformerConfig(n_layers=1, n_heads=2, d_model=8, d_head=4, attn_only=True,
                                  normalization_type="LNPre", d_vocab=7, d_vocab_out=5, n_ctx=4,
                                  seed=77, device="cpu")
    return loaded(cfg, "attn_only")


def plain():
    cfg = HookedTransformerConfig(n_layers=2, n_heads=3, d_model=6, d_head=2, attn_only=True,
                                  normalization_type=None, d_vocab=6, d_vocab_out=6, n_ctx=4,
                                  seed=31, device="cpu")
    model = HookedTransformer(cfg)
    g = torch.Generator().manual_seed(32)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.split(".")[-1].startswith("b_"):
                p.copy_(0.2 * torch.randn(p.shape, generator=g))
    model.eval()
    return model


def eig_parts(fm):
    e = fm.eigenvalues
    return e.real.contiguous().float(), e.imag.contiguous().float()


def write(name, model, seed):
    cfg = model.cfg
    g = torch.Generator().manual_seed(seed)
    tokens = torch.randint(0, cfg.d_vocab, (3, 4), generator=g)
    answer = torch.randint(0, cfg.d_vocab_out, (3,), generator=g)
    wrong = torch.randint(0, cfg.d_vocab_out, (3,), generator=g)
    out = {f"model.{k}": v.clone() for k, v in model.state_dict().items()
           if not k.endswith(".attn.mask") and not k.endswith(".attn.IGNORE")}
    out.update(tokens=tokens, answer=answer, wrong=wrong)
    labels = {}

    model.set_use_attn_result(True)
    with torch.no_grad():
        _, cache = model.run_with_cache(tokens)
        for l in range(cfg.n_layers):
            out[f"result.{l}"] = cache[f"blocks.{l}.attn.hook_result"].clone()

        def keep(key, value):
            stack, names = value
            out[key] = stack.contiguous().clone()
            labels[key] = ",".join(names)

        keep("decompose.all", cache.decompose_resid(return_labels=True))
        keep("decompose.all_ln", cache.decompose_resid(apply_ln=True, return_labels=True))
        keep("decompose.attn_l1", cache.decompose_resid(layer=1, mode="attn", return_labels=True))
        keep("decompose.mlp_pos", cache.decompose_resid(mode="mlp", pos_slice=-1, return_labels=True))
        keep("decompose.noembed_ln", cache.decompose_resid(layer=1, incl_embeds=False, apply_ln=True,
                                                           return_labels=True))
        keep("accumulated.all", cache.accumulated_resid(return_labels=True))
        keep("accumulated.all_ln", cache.accumulated_resid(apply_ln=True, return_labels=True))
        if not cfg.attn_only:   # an attention-only model has no resid_mid
            keep("accumulated.l1_mid", cache.accumulated_resid(layer=1, incl_mid=True, return_labels=True))
        keep("accumulated.l1_ln", cache.accumulated_resid(layer=1, apply_ln=True, pos_slice=-1,
                                                          return_labels=True))
        keep("heads.all", cache.stack_head_results(return_labels=True))
        keep("heads.all_ln", cache.stack_head_results(apply_ln=True, return_labels=True))
        keep("heads.l1_pos", cache.stack_head_results(layer=1, pos_slice=-1, return_labels=True))

        stack = cache.decompose_resid(pos_slice=-1)
        out["logit_attrs.diff"] = cache.logit_attrs(stack, answer, incorrect_tokens=wrong, pos_slice=-1).clone()
        heads = cache.stack_head_results(pos_slice=-1)
        out["logit_attrs.answer"] = cache.logit_attrs(heads, answer, pos_slice=-1).clone()

        for key, fm in [("ov", model.OV), ("qk", model.QK)]:
            out[f"{key}.S"] = fm.S.contiguous().clone()
            out[f"{key}.norm"] = fm.norm().contiguous().clone()
            out[f"{key}.eig_real"], out[f"{key}.eig_imag"] = eig_parts(fm)
        out["ov.AB01"] = model.OV[0, 1].AB.contiguous().clone()
        prod = model.OV[0, 0] @ model.QK[-1, 1]
        out["prod.S"] = prod.S.contiguous().clone()
        out["prod.eig_real"], out["prod.eig_imag"] = eig_parts(prod)

    metadata = dict(labels)
    metadata.update({
        "normalization_type": cfg.normalization_type or "none",
        "act_fn": cfg.act_fn or "",
        "attn_only": str(cfg.attn_only).lower(),
        "n_layers": str(cfg.n_layers), "n_heads": str(cfg.n_heads), "d_model": str(cfg.d_model),
        "d_head": str(cfg.d_head), "d_mlp": str(cfg.d_mlp or 0), "d_vocab": str(cfg.d_vocab),
        "d_vocab_out": str(cfg.d_vocab_out), "n_ctx": str(cfg.n_ctx),
        "transformer_lens": importlib.metadata.version("transformer-lens"),
        "torch": torch.__version__,
    })
    save_file(out, os.path.join(HERE, f"tl_residual_{name}.safetensors"), metadata=metadata)
    print(f"{name}: {len(out)} tensors")


if __name__ == "__main__":
    write("small", small(), 11)
    write("attn_only", attn_only(), 12)
    write("plain", plain(), 13)
