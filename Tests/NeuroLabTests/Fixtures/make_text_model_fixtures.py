"""Writes the text-model fixtures for NeuroLabTests: two tiny Hugging Face folders WITH
tokenizers, and what Hugging Face computes from them, so the language's text built-ins
(load, tokenize, str_tokens, decode, run, logits, generate) are tested against the reference
on models that are always there (the real MiniLM is not always in the cache).

Run from the repository root with a Python that has torch, transformers, tokenizers,
safetensors and transformer-lens:

    python Tests/NeuroLabTests/Fixtures/make_text_model_fixtures.py

Everything is written next to this script; floats are float32, ids int64.

tiny-gpt2/     a byte-level BPE tokenizer trained on TEXT below (vocab_size VOCAB, min_frequency 2, which
               gives 342 tokens; special token <|endoftext|>, which is bos, eos and unk) written both
               ways Hugging Face does (tokenizer.json, and vocab.json + merges.txt) with
               tokenizer_config.json (tokenizer_class GPT2TokenizerFast) and
               special_tokens_map.json; and a GPT2LMHeadModel (2 layers, n_embd 32, 4 heads,
               n_positions 64, gelu_new), seeded with non-trivial biases and LayerNorms, then
               trained TRAIN_STEPS steps on TEXT so greedy generation follows the text.
tiny-bert/     a WordPiece vocab.txt (163 entries: the five special tokens, punctuation,
               letters and ##letters, common words and suffixes of TEXT; lowercasing, accents
               stripped) with tokenizer_config.json, and a random BertModel (no head, like
               MiniLM: 2 layers, hidden 32, 4 heads, intermediate 64, 64 positions).
text_models_expected.safetensors
    gpt2.ids.<i>                  int64 [T_i]: AutoTokenizer ids of TEXTS[i] with <|endoftext|>
                                  prepended, as HookedTransformer.to_tokens gives them
    gpt2.batch.ids / .mask        int64 [B, T]: the texts padded on the right with <|endoftext|>
    gpt2.logits                   [B, T, V]: GPT2LMHeadModel on the padded batch with its mask
    gpt2.cache.blocks.0.mlp.hook_post     [B, T, 128]: transformer.h[0].mlp.act's output
    gpt2.cache.blocks.0.hook_resid_post   [B, T, 32]: hidden_states[1]
    gpt2.generate.<j>             int64: model.generate(BOS + prompt j, max_new_tokens=8,
                                  do_sample=False), which stops at <|endoftext|>
    bert.ids.<i>                  int64 [T_i]: [CLS] ... [SEP]
    bert.batch.ids / .mask        int64 [B, T]: padded on the right with [PAD]
    bert.last_hidden_state        [B, T, 32]
    bert.cache.blocks.0.mlp.hook_post     [B, T, 64]: encoder.layer[0].intermediate's output
  metadata: texts, prompts (JSON lists); gpt2.str_tokens, bert.str_tokens (JSON: per text the
  tokens each decoded alone, TransformerLens's to_str_tokens); gpt2.decoded, bert.decoded (JSON:
  tokenizer.decode of each text's ids, special tokens kept); gpt2.generated (JSON: decode of each
  generate output without the prepended <|endoftext|>, what TransformerLens's generate returns);
  versions.

Before writing, the script checks Hugging Face against TransformerLens (HookedTransformer on the
converted GPT-2 weights with this tokenizer): to_tokens, the logits on the batch, and generate.
"""
import importlib.metadata
import json
import os
import shutil
import sys

import torch
from safetensors.torch import save_file
from tokenizers import ByteLevelBPETokenizer
from transformers import (AutoTokenizer, BertConfig, BertModel, BertTokenizer, GPT2Config, GPT2LMHeadModel,
                          PreTrainedTokenizerFast)

HERE = os.path.dirname(os.path.abspath(__file__))
GPT2_DIR = os.path.join(HERE, "tiny-gpt2")
BERT_DIR = os.path.join(HERE, "tiny-bert")
EOT = "<|endoftext|>"
TRAIN_STEPS = 600
VOCAB = 400
torch.set_num_threads(1)

TEXT = [
    "The small model reads a sentence and guesses the next word. It has seen only a few "
    "paragraphs, so it knows little, but what it knows it knows well.",
    "A tokenizer cuts the text into pieces. Common words stay whole, and rare words are "
    "split into smaller parts that the model has seen before.",
    "In the morning the garden is quiet. The birds sing in the trees, the cat sleeps in "
    "the sun, and the water in the pond is still and clear.",
    "We trained the network for a few hundred steps. The loss went down, the predictions "
    "got better, and the model learned to repeat the text it was given.",
    "Every layer adds something to the residual stream. Attention moves information between "
    "positions, and the MLP changes what is stored at each position.",
]

# Texts for tokenize/run/logits: one short, one longer (so the batch pads), one with accents and
# punctuation (bytes outside the training text for GPT-2; [UNK] and stripped accents for BERT).
TEXTS = [
    "The cat sleeps.",
    "In the morning the garden is quiet, and the birds sing in the trees.",
    "Café déjà vu — naïve façade! (ok?)",
]
# Prompts for generate: one that continues for all 8 tokens, one that reaches <|endoftext|> sooner.
PROMPTS = [
    "In the morning the garden",
    "the model learned to repeat the text it was",
]


def versions():
    return {"torch": torch.__version__,
            "transformers": importlib.metadata.version("transformers"),
            "tokenizers": importlib.metadata.version("tokenizers"),
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


def fresh(folder):
    shutil.rmtree(folder, ignore_errors=True)
    os.makedirs(folder)


def batch(rows, pad):
    width = max(len(r) for r in rows)
    ids = torch.tensor([r + [pad] * (width - len(r)) for r in rows], dtype=torch.int64)
    mask = torch.tensor([[1] * len(r) + [0] * (width - len(r)) for r in rows], dtype=torch.int64)
    return ids, mask


# ---------------------------------------------------------------- GPT-2

def make_gpt2():
    fresh(GPT2_DIR)
    bpe = ByteLevelBPETokenizer()
    bpe.train_from_iterator(TEXT, vocab_size=VOCAB, min_frequency=2, special_tokens=[EOT])
    bpe.save_model(GPT2_DIR)  # vocab.json, merges.txt
    fast = PreTrainedTokenizerFast(tokenizer_object=bpe._tokenizer, bos_token=EOT, eos_token=EOT,
                                   unk_token=EOT, model_max_length=64)
    fast.save_pretrained(GPT2_DIR)
    # Keep only the files a GPT-2 folder has: tokenizer.json, tokenizer_config.json,
    # special_tokens_map.json (written by hand when transformers no longer writes it).
    special = {"bos_token": EOT, "eos_token": EOT, "unk_token": EOT}
    # The class a GPT-2 folder names, so transformers 4 opens it too (5 writes its generic backend).
    config_path = os.path.join(GPT2_DIR, "tokenizer_config.json")
    with open(config_path) as f:
        tokenizer_config = json.load(f)
    tokenizer_config.pop("backend", None)
    tokenizer_config["tokenizer_class"] = "GPT2TokenizerFast"
    with open(config_path, "w") as f:
        json.dump(tokenizer_config, f, indent=2)
    with open(os.path.join(GPT2_DIR, "special_tokens_map.json"), "w") as f:
        json.dump(special, f, indent=2)
    tokenizer = AutoTokenizer.from_pretrained(GPT2_DIR)
    assert tokenizer.bos_token == EOT and tokenizer.eos_token == EOT, (tokenizer.bos_token, tokenizer.eos_token)
    vocab = len(tokenizer)
    eot = tokenizer.convert_tokens_to_ids(EOT)
    print(f"tiny-gpt2: vocab {vocab}, <|endoftext|> = {eot}")

    torch.manual_seed(0)
    config = GPT2Config(vocab_size=vocab, n_positions=64, n_embd=32, n_layer=2, n_head=4,
                        activation_function="gelu_new", resid_pdrop=0.0, embd_pdrop=0.0, attn_pdrop=0.0,
                        bos_token_id=eot, eos_token_id=eot, initializer_range=0.2)
    model = GPT2LMHeadModel(config)
    roughen(model, torch.Generator().manual_seed(1))

    # Train on the paragraphs, each between <|endoftext|>s: every window of the stream (so the model
    # continues the text wherever a prompt puts it) and every paragraph from position 0 (where a prompt starts).
    stream, starts = [], []
    for paragraph in TEXT:
        starts.append(len(stream))
        stream += [eot] + tokenizer(paragraph)["input_ids"]
    stream += [eot]
    data = torch.tensor(stream, dtype=torch.int64)
    windows = torch.stack([data[i:i + 64] for i in list(range(0, len(data) - 64)) + [s for s in starts if s + 64 <= len(data)]])
    optimizer = torch.optim.AdamW(model.parameters(), lr=3e-3, weight_decay=0.0)
    model.train()
    for step in range(TRAIN_STEPS):
        loss = model(windows, labels=windows).loss
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        if step % 100 == 0 or step == TRAIN_STEPS - 1:
            print(f"  step {step}: loss {loss.item():.3f}")
    model.eval()
    model.save_pretrained(GPT2_DIR, safe_serialization=True)

    rows = [[eot] + tokenizer(t)["input_ids"] for t in TEXTS]
    ids, mask = batch(rows, eot)
    captured = {}
    handle = model.transformer.h[0].mlp.act.register_forward_hook(lambda m, i, o: captured.__setitem__("post", o))
    with torch.no_grad():
        out = model(ids, attention_mask=mask, output_hidden_states=True)
    handle.remove()
    tensors = {f"gpt2.ids.{i}": torch.tensor(r, dtype=torch.int64) for i, r in enumerate(rows)}
    tensors.update({"gpt2.batch.ids": ids, "gpt2.batch.mask": mask, "gpt2.logits": out.logits.float().contiguous(),
                    "gpt2.cache.blocks.0.mlp.hook_post": captured["post"].contiguous(),
                    "gpt2.cache.blocks.0.hook_resid_post": out.hidden_states[1].contiguous()})
    meta = {"gpt2.str_tokens": json.dumps([[tokenizer.decode([i]) for i in r] for r in rows]),
            "gpt2.decoded": json.dumps([tokenizer.decode(r) for r in rows])}
    generated = []
    for j, prompt in enumerate(PROMPTS):
        start = torch.tensor([[eot] + tokenizer(prompt)["input_ids"]])
        with torch.no_grad():
            output = model.generate(start, attention_mask=torch.ones_like(start), max_new_tokens=8,
                                    do_sample=False, eos_token_id=eot, pad_token_id=eot)
        tensors[f"gpt2.generate.{j}"] = output[0].clone()
        generated.append(tokenizer.decode(output[0, 1:]))
        print(f"  generate {prompt!r} -> {generated[-1]!r} ({output.shape[1] - start.shape[1]} new)")
    meta["gpt2.generated"] = json.dumps(generated)
    check_transformer_lens(model, tokenizer, rows, ids, mask, out.logits, tensors)
    return tensors, meta


def check_transformer_lens(model, tokenizer, rows, ids, mask, logits, tensors):
    """HookedTransformer on the converted weights, with this tokenizer: to_tokens, logits, generate."""
    from transformer_lens import HookedTransformer, HookedTransformerConfig
    from transformer_lens.pretrained.weight_conversions import convert_gpt2_weights
    c = model.config
    cfg = HookedTransformerConfig(n_layers=c.n_layer, d_model=c.n_embd, n_ctx=c.n_positions, d_head=c.n_embd // c.n_head,
                                  n_heads=c.n_head, d_mlp=4 * c.n_embd, d_vocab=c.vocab_size, act_fn="gelu_new",
                                  normalization_type="LN", eps=c.layer_norm_epsilon, positional_embedding_type="standard",
                                  default_prepend_bos=True, tokenizer_prepends_bos=False)
    tl = HookedTransformer(cfg, tokenizer=tokenizer)
    tl.load_state_dict(convert_gpt2_weights(model, cfg), strict=False)
    tl.eval()
    for text, row in zip(TEXTS, rows):
        got = tl.to_tokens(text)[0].tolist()
        assert got == row, f"TransformerLens to_tokens {got} != {row}"
    assert tl.to_tokens(TEXTS).tolist() == ids.tolist(), "TransformerLens pads the batch differently"
    with torch.no_grad():
        tl_logits = tl(ids, attention_mask=mask)
    real = mask.bool()
    err = (tl_logits[real] - logits[real]).abs().max().item()
    print(f"  TransformerLens logits vs Hugging Face on real positions: max |diff| {err:.2e}")
    if err > 1e-4:
        sys.exit("TransformerLens and Hugging Face disagree")
    for j, prompt in enumerate(PROMPTS):
        out = tl.generate(prompt, max_new_tokens=8, do_sample=False, stop_at_eos=True, verbose=False, return_type="tokens")
        hf = tensors[f"gpt2.generate.{j}"].tolist()
        assert out[0].tolist()[:len(hf)] == hf, f"TransformerLens generate {out[0].tolist()} != {hf}"
    print("  TransformerLens to_tokens, logits and generate agree")


# ---------------------------------------------------------------- BERT

def bert_vocab(tokenizer_words):
    special = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    punctuation = list(".,!?;:'\"()-")
    letters = [chr(c) for c in range(ord("a"), ord("z") + 1)]
    pieces = ["##" + l for l in letters] + ["##s", "##ed", "##ing", "##er", "##ly", "##es", "##en", "##th", "##re", "##on"]
    counts = {}
    for w in tokenizer_words:
        counts[w] = counts.get(w, 0) + 1
    common = sorted((w for w in counts if len(w) > 1), key=lambda w: (-counts[w], w))
    vocab = special + punctuation + letters + [p for p in dict.fromkeys(pieces)]
    words = [w for w in common if w not in vocab][:200 - len(vocab)]
    return vocab + words


def make_bert():
    fresh(BERT_DIR)
    words = []
    for paragraph in TEXT:
        cleaned = "".join(ch if ch.isalnum() or ch == " " else " " for ch in paragraph.lower())
        words += cleaned.split()
    vocab = bert_vocab(words)
    with open(os.path.join(BERT_DIR, "vocab.txt"), "w") as f:
        f.write("\n".join(vocab) + "\n")
    slow = BertTokenizer(os.path.join(BERT_DIR, "vocab.txt"), do_lower_case=True, model_max_length=64)
    slow.save_pretrained(BERT_DIR)
    tokenizer = AutoTokenizer.from_pretrained(BERT_DIR)
    print(f"tiny-bert: vocab {len(tokenizer)} ({type(tokenizer).__name__}), files {sorted(os.listdir(BERT_DIR))}")

    torch.manual_seed(2)
    config = BertConfig(vocab_size=len(vocab), hidden_size=32, num_hidden_layers=2, num_attention_heads=4,
                        intermediate_size=64, max_position_embeddings=64, type_vocab_size=2, hidden_act="gelu",
                        hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0, initializer_range=0.2,
                        pad_token_id=0)
    model = BertModel(config, add_pooling_layer=False)
    roughen(model, torch.Generator().manual_seed(3))
    model.eval()
    model.save_pretrained(BERT_DIR, safe_serialization=True)

    rows = [tokenizer(t)["input_ids"] for t in TEXTS]
    ids, mask = batch(rows, tokenizer.pad_token_id)
    encoded = tokenizer(TEXTS, padding=True, return_tensors="pt")
    assert encoded["input_ids"].tolist() == ids.tolist() and encoded["attention_mask"].tolist() == mask.tolist()
    captured = {}
    handle = model.encoder.layer[0].intermediate.register_forward_hook(lambda m, i, o: captured.__setitem__("post", o))
    with torch.no_grad():
        out = model(ids, attention_mask=mask)
    handle.remove()
    tensors = {f"bert.ids.{i}": torch.tensor(r, dtype=torch.int64) for i, r in enumerate(rows)}
    tensors.update({"bert.batch.ids": ids, "bert.batch.mask": mask,
                    "bert.last_hidden_state": out.last_hidden_state.contiguous(),
                    "bert.cache.blocks.0.mlp.hook_post": captured["post"].contiguous()})
    meta = {"bert.str_tokens": json.dumps([[tokenizer.decode([i]) for i in r] for r in rows]),
            "bert.decoded": json.dumps([tokenizer.decode(r) for r in rows])}
    for text, row in zip(TEXTS, rows):
        print(f"  {text!r} -> {tokenizer.convert_ids_to_tokens(row)}")
    return tensors, meta


def main():
    gpt2_tensors, gpt2_meta = make_gpt2()
    bert_tensors, bert_meta = make_bert()
    path = os.path.join(HERE, "text_models_expected.safetensors")
    meta = {"texts": json.dumps(TEXTS), "prompts": json.dumps(PROMPTS), **gpt2_meta, **bert_meta, **versions()}
    save_file({**gpt2_tensors, **bert_tensors}, path, metadata=meta)
    total = sum(os.path.getsize(os.path.join(d, f)) for d in (GPT2_DIR, BERT_DIR) for f in os.listdir(d))
    print(f"wrote text_models_expected.safetensors ({os.path.getsize(path) // 1024} KB); folders {total // 1024} KB")


if __name__ == "__main__":
    main()
