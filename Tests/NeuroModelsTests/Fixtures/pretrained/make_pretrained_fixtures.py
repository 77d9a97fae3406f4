"""Writes the pretrained-model parity fixtures for NeuroModelsTests (Hugging Face folders).

Run from the repository root with a Python that has torch, transformers, tokenizers,
safetensors and "transformer-lens<4":

    pip install torch "transformer-lens<4" transformers tokenizers safetensors
    python Tests/NeuroModelsTests/Fixtures/pretrained/make_pretrained_fixtures.py [MINILM_DIR]

MINILM_DIR is the real all-MiniLM-L6-v2 Hugging Face folder; by default
${XDG_CACHE_HOME:-~/.cache}/neuromap/models/all-minilm-l6-v2 (`neuromap fetch all-minilm-l6-v2`
puts it there). Without it the MiniLM reference is skipped with a message.

Everything below is written next to this script. All floats are float32, ids int64.

tiny_gpt2/                        a random GPT2LMHeadModel (2 layers, n_embd 32, 4 heads,
                                  n_positions 32, vocab 97, gelu_new) saved with
                                  save_pretrained(safe_serialization=True): config.json and
                                  model.safetensors (lm_head is tied to transformer.wte and so
                                  absent from the file). Every bias and LayerNorm weight is set
                                  to random non-trivial values so bias and LayerNorm bugs show.
tiny_gpt2_expected.safetensors    what Hugging Face and TransformerLens compute from it:
    input_ids                         int64 [2, 12]
    logits                            [2, 12, 97], Hugging Face's
    cache.<hook name>                 every activation of HookedTransformer.run_with_cache on the
                                      unprocessed weights (TransformerLens's
                                      from_pretrained_no_processing: convert_gpt2_weights loaded
                                      as is), in TransformerLens's names. The causal mask shows
                                      in blocks.L.attn.hook_attn_scores as -inf.
  metadata: hooks (cache order, comma separated), versions.
tiny_gpt2_tl_processed_expected.safetensors
                                  the same model as HookedTransformer.from_pretrained loads it
                                  by default: fold_ln, center_writing_weights, center_unembed
                                  and fold_value_biases (refactor_factored_attn_matrices off),
                                  through load_and_process_state_dict:
    input_ids                         int64 [2, 12] (as above)
    logits                            [2, 12, 97]; they differ from Hugging Face's by a constant
                                      per position (center_unembed), so log_softmax agrees
    cache.<hook name>                 every activation in TransformerLens's names (the LayerNorms
                                      are LNPre: hook_scale and hook_normalized, no weights)
    weights.<name>                    every parameter after processing (embed.W_E,
                                      pos_embed.W_pos, blocks.L.attn.W_Q/K/V/O, b_Q/K/V/O,
                                      blocks.L.mlp.W_in/b_in/W_out/b_out, unembed.W_U/b_U)
  metadata: hooks, the processing flags, versions.
tiny_bert/                        a random BertForMaskedLM (2 layers, hidden 32, 4 heads,
                                  intermediate 64, vocab 101, 32 positions, 2 token types, exact
                                  gelu, eps 1e-12) saved with save_pretrained(safe_serialization=
                                  True); non-trivial biases and LayerNorms as above.
tiny_bert_expected.safetensors
    input_ids                         int64 [2, 10]; row 1 ends in 3 padding ids (0)
    attention_mask                    int64 [2, 10]; 1 on tokens, 0 on the padding
    token_type_ids                    int64 [2, 10]; row 0 is 0 then 1 (two segments)
    logits                            [2, 10, 101], Hugging Face's MLM logits
    last_hidden_state                 [2, 10, 32], Hugging Face's final hidden state
    cache.<hook name>                 every activation of TransformerLens's HookedEncoder
                                      .run_with_cache(input_ids, token_type_ids,
                                      one_zero_attention_mask=attention_mask), in its names
                                      (embed.hook_embed, blocks.L.hook_normalized_resid_post, ...).
                                      Padded keys show in hook_attn_scores as -inf.
  metadata: hooks, versions.
minilm_reference.safetensors      the real all-MiniLM-L6-v2 (BertModel, no head) through Hugging
                                  Face AutoTokenizer + AutoModel on three sentences:
    input_ids, attention_mask, token_type_ids   int64 [3, T], padded batch
    last_hidden_state                 [3, T, 384]
    blocks.3.mlp.hook_post            [3, T, 1536], encoder.layer[3].intermediate's output
                                      (after GELU), TransformerLens's name
  metadata: sentences (JSON list), model_sha256 (of model.safetensors), versions.

Before writing, the script checks that Hugging Face's and TransformerLens's logits agree
(GPT-2 unprocessed; BERT on the unpadded positions) and that the processed GPT-2 has the same
log-probabilities.
"""
import hashlib
import importlib.metadata
import json
import os
import sys

import torch
from safetensors.torch import save_file
from transformers import (AutoModel, AutoTokenizer, BertConfig, BertForMaskedLM, BertForPreTraining,
                          GPT2Config, GPT2LMHeadModel)
from transformer_lens import HookedEncoder, HookedTransformer, HookedTransformerConfig
from transformer_lens.pretrained.weight_conversions import convert_bert_weights, convert_gpt2_weights

HERE = os.path.dirname(os.path.abspath(__file__))
torch.set_num_threads(1)


def versions():
    return {"torch": torch.__version__,
            "transformers": importlib.metadata.version("transformers"),
            "transformer_lens": importlib.metadata.version("transformer-lens")}


def roughen(model, generator):
    """Every bias to N(0, 0.2²) and every LayerNorm weight to 1 + N(0, 0.3²)."""
    with torch.no_grad():
        for name, p in model.named_parameters():
            is_norm = "ln_" in name or "LayerNorm" in name
            if name.endswith("bias"):
                p.copy_(0.2 * torch.randn(p.shape, generator=generator))
            elif is_norm and name.endswith("weight"):
                p.copy_(1 + 0.3 * torch.randn(p.shape, generator=generator))


def cache_entries(cache):
    return {f"cache.{hook}": value.detach().clone().contiguous() for hook, value in cache.items()}


def check_close(name, ours, reference, atol):
    err = (ours - reference).abs().max().item()
    print(f"  {name}: max |diff| {err:.2e}")
    if not err <= atol:
        sys.exit(f"{name}: Hugging Face and TransformerLens disagree by {err} (> {atol})")


def write(name, tensors, metadata):
    path = os.path.join(HERE, name)
    save_file(tensors, path, metadata={**metadata, **versions()})
    print(f"  wrote {name} ({os.path.getsize(path) // 1024} KB, {len(tensors)} tensors)")


# --- GPT-2 --------------------------------------------------------------------------------

def gpt2_tl_config(hf_cfg):
    """TransformerLens's config for a GPT2LMHeadModel (as loading_from_pretrained makes it)."""
    return HookedTransformerConfig(
        d_model=hf_cfg.n_embd, d_head=hf_cfg.n_embd // hf_cfg.n_head, n_heads=hf_cfg.n_head,
        d_mlp=hf_cfg.n_embd * 4, n_layers=hf_cfg.n_layer, n_ctx=hf_cfg.n_positions,
        eps=hf_cfg.layer_norm_epsilon, d_vocab=hf_cfg.vocab_size, act_fn=hf_cfg.activation_function,
        use_attn_scale=True, scale_attn_by_inverse_layer_idx=hf_cfg.scale_attn_by_inverse_layer_idx,
        normalization_type="LN", original_architecture="GPT2LMHeadModel", device="cpu")


def make_gpt2():
    print("tiny_gpt2")
    torch.manual_seed(20240)
    hf_cfg = GPT2Config(n_layer=2, n_embd=32, n_head=4, n_positions=32, vocab_size=97,
                        activation_function="gelu_new", initializer_range=0.2,
                        resid_pdrop=0.0, embd_pdrop=0.0, attn_pdrop=0.0,
                        bos_token_id=96, eos_token_id=96)
    hf = GPT2LMHeadModel(hf_cfg).eval()
    g = torch.Generator().manual_seed(20241)
    roughen(hf, g)
    hf.save_pretrained(os.path.join(HERE, "tiny_gpt2"), safe_serialization=True)
    input_ids = torch.randint(0, hf_cfg.vocab_size, (2, 12), generator=g)
    with torch.no_grad():
        hf_logits = hf(input_ids).logits

    cfg = gpt2_tl_config(hf_cfg)
    state = {k: v.detach().clone() for k, v in convert_gpt2_weights(hf, cfg).items()}

    raw = HookedTransformer(cfg).eval()
    raw.load_and_process_state_dict(dict(state), fold_ln=False, center_writing_weights=False,
                                    center_unembed=False, fold_value_biases=False)
    with torch.no_grad():
        raw_logits, raw_cache = raw.run_with_cache(input_ids)
    check_close("HF vs TL logits (unprocessed)", raw_logits, hf_logits, 1e-4)
    out = {"input_ids": input_ids, "logits": hf_logits.contiguous(), **cache_entries(raw_cache)}
    write("tiny_gpt2_expected.safetensors", out, {"hooks": ",".join(raw_cache.keys())})

    processed = HookedTransformer(gpt2_tl_config(hf_cfg)).eval()
    flags = dict(fold_ln=True, center_writing_weights=True, center_unembed=True,
                 fold_value_biases=True, refactor_factored_attn_matrices=False)
    processed.load_and_process_state_dict(dict(state), **flags)
    with torch.no_grad():
        proc_logits, proc_cache = processed.run_with_cache(input_ids)
    check_close("HF vs TL log-probs (processed)", proc_logits.log_softmax(-1), hf_logits.log_softmax(-1), 1e-4)
    out = {"input_ids": input_ids, "logits": proc_logits.contiguous(), **cache_entries(proc_cache)}
    for n, p in processed.named_parameters():
        out[f"weights.{n}"] = p.detach().clone().contiguous()
    write("tiny_gpt2_tl_processed_expected.safetensors", out,
          {"hooks": ",".join(proc_cache.keys()), **{k: str(v) for k, v in flags.items()}})


# --- BERT ---------------------------------------------------------------------------------

def make_bert():
    print("tiny_bert")
    torch.manual_seed(31415)
    hf_cfg = BertConfig(vocab_size=101, hidden_size=32, num_hidden_layers=2, num_attention_heads=4,
                        intermediate_size=64, max_position_embeddings=32, type_vocab_size=2,
                        hidden_act="gelu", initializer_range=0.2, hidden_dropout_prob=0.0,
                        attention_probs_dropout_prob=0.0, pad_token_id=0)
    hf = BertForMaskedLM(hf_cfg).eval()
    g = torch.Generator().manual_seed(31416)
    roughen(hf, g)
    hf.save_pretrained(os.path.join(HERE, "tiny_bert"), safe_serialization=True)

    input_ids = torch.randint(1, hf_cfg.vocab_size, (2, 10), generator=g)
    attention_mask = torch.ones_like(input_ids)
    attention_mask[1, 7:] = 0
    input_ids[1, 7:] = 0
    token_type_ids = torch.zeros_like(input_ids)
    token_type_ids[0, 6:] = 1
    with torch.no_grad():
        hf_out = hf(input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids,
                    output_hidden_states=True)

    # TransformerLens converts from BertForPreTraining (it also reads the pooler and the NSP
    # head, which the MLM forward never uses): copy the MLM model into one.
    pre = BertForPreTraining(hf_cfg).eval()
    missing, unexpected = pre.load_state_dict(hf.state_dict(), strict=False)
    assert not unexpected and all(k.startswith(("bert.pooler", "cls.seq_relationship")) for k in missing), (missing, unexpected)
    cfg = HookedTransformerConfig(
        d_model=hf_cfg.hidden_size, d_head=hf_cfg.hidden_size // hf_cfg.num_attention_heads,
        n_heads=hf_cfg.num_attention_heads, d_mlp=hf_cfg.intermediate_size,
        n_layers=hf_cfg.num_hidden_layers, n_ctx=hf_cfg.max_position_embeddings,
        eps=hf_cfg.layer_norm_eps, d_vocab=hf_cfg.vocab_size, act_fn="gelu",
        attention_dir="bidirectional", original_architecture="BertForMaskedLM", device="cpu")
    tl = HookedEncoder(cfg, move_to_device=False).eval()
    missing, unexpected = tl.load_state_dict(
        {k: v.detach().clone() for k, v in convert_bert_weights(pre, cfg).items()}, strict=False)
    assert not unexpected and all(k.endswith((".attn.mask", ".attn.IGNORE")) for k in missing), (missing, unexpected)
    with torch.no_grad():
        tl_logits, cache = tl.run_with_cache(input_ids, token_type_ids=token_type_ids,
                                             one_zero_attention_mask=attention_mask)
    real = attention_mask.bool()
    check_close("HF vs TL logits (unpadded)", tl_logits[real], hf_out.logits[real], 1e-4)
    final = cache[f"blocks.{cfg.n_layers - 1}.hook_normalized_resid_post"]
    check_close("HF vs TL final hidden (unpadded)", final[real], hf_out.hidden_states[-1][real], 1e-4)

    out = {"input_ids": input_ids, "attention_mask": attention_mask, "token_type_ids": token_type_ids,
           "logits": hf_out.logits.contiguous(), "last_hidden_state": hf_out.hidden_states[-1].contiguous(),
           **cache_entries(cache)}
    write("tiny_bert_expected.safetensors", out, {"hooks": ",".join(cache.keys())})


# --- MiniLM -------------------------------------------------------------------------------

SENTENCES = [
    "The cat sat on the mat.",
    "Café déjà vu: naïve señor, jalapeño-flavoured crème brûlée!",
    "Neurons in superposition represent more features than dimensions.",
]


def make_minilm(folder):
    print(f"minilm from {folder}")
    weights = os.path.join(folder, "model.safetensors")
    if not os.path.exists(weights):
        print(f"  skipped: no {weights} (run `neuromap fetch all-minilm-l6-v2`, or give the folder)")
        return
    tokenizer = AutoTokenizer.from_pretrained(folder)
    model = AutoModel.from_pretrained(folder).eval()
    batch = tokenizer(SENTENCES, padding=True, return_tensors="pt")
    captured = {}
    handle = model.encoder.layer[3].intermediate.register_forward_hook(
        lambda module, args, output: captured.__setitem__("post", output.detach().clone()))
    with torch.no_grad():
        out = model(**batch)
    handle.remove()
    with open(weights, "rb") as f:
        sha = hashlib.sha256(f.read()).hexdigest()
    tensors = {"input_ids": batch["input_ids"].to(torch.int64),
               "attention_mask": batch["attention_mask"].to(torch.int64),
               "token_type_ids": batch["token_type_ids"].to(torch.int64),
               "last_hidden_state": out.last_hidden_state.contiguous(),
               "blocks.3.mlp.hook_post": captured["post"].contiguous()}
    for sentence, ids in zip(SENTENCES, batch["input_ids"]):
        print(f"  {tokenizer.convert_ids_to_tokens(ids)}")
    write("minilm_reference.safetensors", tensors,
          {"sentences": json.dumps(SENTENCES, ensure_ascii=False), "model_sha256": sha})


if __name__ == "__main__":
    cache_home = os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache")
    minilm = sys.argv[1] if len(sys.argv) > 1 else os.path.join(cache_home, "neuromap", "models", "all-minilm-l6-v2")
    make_gpt2()
    make_bert()
    make_minilm(minilm)
