"""Writes the TransformerLens activation-patching parity fixture for NeuroAnalysisTests.

Run once from anywhere with a Python that has torch, "transformer-lens<4" and safetensors
(the venv described in /work/shared/peer/README.md works):

    python Tests/NeuroAnalysisTests/Fixtures/make_patching_fixtures.py

It loads the 2-layer LayerNorm gelu model of NeuroModelsTests (tl_small.safetensors, made by
Tests/NeuroModelsTests/Fixtures/make_tl_fixtures.py) with the same HookedTransformerConfig,
builds clean and corrupted token batches, and records what transformer_lens.patching returns
with a logit-difference metric into tl_patching.safetensors next to this script:

  model.<param>        the model's parameters (TransformerLens names; buffers left out)
  clean, corrupted     int64 [batch, pos]
  labels               int64 [batch]: the clean run's last-position argmax
  clean_metric, corrupted_metric   float32 scalars: the metric on each input
  denoise.<function>   the function's result, run on the corrupted tokens with the clean cache
  noise.<function>     the same with the roles swapped (clean tokens, corrupted cache)

for <function> in resid_pre, resid_mid, resid_post (generic_activation_patch with
layer_pos_patch_setter: TransformerLens has no preset), attn_out, mlp_out, block_every,
attn_head_out_all_pos, attn_head_pattern_by_pos, attn_head_pattern_dest_src_pos,
attn_head_all_pos_every, attn_head_by_pos_every.

The metric is NeuroMap's logit_diff: the mean over inputs of the label's logit minus the mean
of the other logits, at the last position.
"""
import importlib.metadata
import os

import torch
from safetensors.torch import load_file, save_file
from transformer_lens import HookedTransformer, HookedTransformerConfig, patching

HERE = os.path.dirname(os.path.abspath(__file__))
MODEL = os.path.join(HERE, "..", "..", "NeuroModelsTests", "Fixtures", "tl_small.safetensors")
torch.set_num_threads(1)


def load_small():
    cfg = HookedTransformerConfig(n_layers=2, n_heads=2, d_model=8, d_head=4, d_mlp=16, act_fn="gelu",
                                  normalization_type="LN", d_vocab=10, d_vocab_out=10, n_ctx=5,
                                  seed=1234, device="cpu")
    model = HookedTransformer(cfg)
    model.load_state_dict(load_file(MODEL), strict=True)
    model.eval()
    return model


def logit_diff(labels):
    def metric(logits):
        last = logits[:, -1]
        correct = last.gather(-1, labels[:, None])[:, 0]
        others = (last.sum(-1) - correct) / (last.shape[-1] - 1)
        return (correct - others).mean()
    return metric


def resid_post(model, tokens, cache, metric):
    return patching.generic_activation_patch(model, tokens, cache, metric, patch_setter=patching.layer_pos_patch_setter,
                                             activation_name="resid_post", index_axis_names=("layer", "pos"))


FUNCTIONS = {
    "resid_pre": patching.get_act_patch_resid_pre,
    "resid_mid": patching.get_act_patch_resid_mid,
    "resid_post": resid_post,
    "attn_out": patching.get_act_patch_attn_out,
    "mlp_out": patching.get_act_patch_mlp_out,
    "block_every": patching.get_act_patch_block_every,
    "attn_head_out_all_pos": patching.get_act_patch_attn_head_out_all_pos,
    "attn_head_pattern_by_pos": patching.get_act_patch_attn_head_pattern_by_pos,
    "attn_head_pattern_dest_src_pos": patching.get_act_patch_attn_head_pattern_dest_src_pos,
    "attn_head_all_pos_every": patching.get_act_patch_attn_head_all_pos_every,
    "attn_head_by_pos_every": patching.get_act_patch_attn_head_by_pos_every,
}


def main():
    model = load_small()
    g = torch.Generator().manual_seed(2024)
    clean = torch.randint(0, 10, (6, 5), generator=g)
    corrupted = clean.clone()
    # Change the first three positions; the last two keep their tokens.
    corrupted[:, :3] = (clean[:, :3] + torch.randint(1, 10, (6, 3), generator=g)) % 10
    with torch.no_grad():
        clean_logits, clean_cache = model.run_with_cache(clean)
        corrupted_logits, corrupted_cache = model.run_with_cache(corrupted)
        labels = clean_logits[:, -1].argmax(-1)
        metric = logit_diff(labels)
        out = {f"model.{n}": p.detach().clone() for n, p in model.named_parameters()}
        out.update(clean=clean, corrupted=corrupted, labels=labels,
                   clean_metric=metric(clean_logits).detach().clone(), corrupted_metric=metric(corrupted_logits).detach().clone())
        for name, function in FUNCTIONS.items():
            out[f"denoise.{name}"] = function(model, corrupted, clean_cache, metric).detach().clone().contiguous()
            out[f"noise.{name}"] = function(model, clean, corrupted_cache, metric).detach().clone().contiguous()
    metadata = {"transformer_lens": importlib.metadata.version("transformer-lens"), "torch": torch.__version__,
                "act_fn": "gelu", "normalization_type": "LN", "metric": "logit_diff"}
    save_file(out, os.path.join(HERE, "tl_patching.safetensors"), metadata=metadata)
    print(f"clean {out['clean_metric'].item():.4f}, corrupted {out['corrupted_metric'].item():.4f}, "
          f"{len(FUNCTIONS)} functions × 2 directions")


if __name__ == "__main__":
    main()
