#!/usr/bin/env bash
# Runs the peer — TransformerLens's grokking setup on this CPU
# (../shared/peer/tl_grok_bench.py) — and prints its two timings as JSON lines
# in neuromap-bench's format, so `make bench` shows both side by side.
#
#   scripts/peer-bench.sh [EPOCHS] [THREADS]
#   scripts/peer-bench.sh sae [THREADS]      torch's SAE training step beside sae_step_*
#   scripts/peer-bench.sh bert [THREADS]     Hugging Face BERT beside bert_b*x128, and
#                                            MechaMap's one-pass-per-neuron scan cost beside scan_minilm
#
# PEER_PYTHON names a Python with torch and transformer-lens<4 (and
# transformers for bert) — default /tmp/peer/bin/python, as set up by
# ../shared/peer/README.md; /work/venv/bin/python also works. PEER_SCRIPT the
# benchmark script. Without them it says so and exits 0: the peer is optional.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
python="${PEER_PYTHON:-/tmp/peer/bin/python}"
epochs="${1:-20}"
threads="${2:-2}"

# The number after KEY on the peer's output ($out): its lines are "key value".
value() { printf '%s\n' "$out" | awk -v k="$1" '$1 == k {print $2}'; }

# `scripts/peer-bench.sh bert [THREADS]`: Hugging Face's BertModel on torch
# (../shared/peer/hf_bert_bench.py) on the MiniLM folder from NEUROMAP_MINILM
# or the model cache, beside bert_b1x128 and bert_b32x128.
if [ "${1:-}" = "bert" ]; then
    threads="${2:-2}"
    script="${PEER_SCRIPT:-../shared/peer/hf_bert_bench.py}"
    model="${NEUROMAP_MINILM:-${XDG_CACHE_HOME:-$HOME/.cache}/neuromap/models/all-minilm-l6-v2}"
    if [ ! -x "$python" ] || [ ! -f "$script" ] || [ ! -f "$model/config.json" ]; then
        echo "{\"name\":\"peer\", \"ms\":0, \"note\":\"Hugging Face peer not run: needs PEER_PYTHON with torch and transformers (now $python), PEER_SCRIPT (now $script) and the model at $model (make models)\"}"
        exit 0
    fi
    out=$("$python" "$script" "$model" "$threads" 2>/dev/null)
    b1=$(value hf_ms_b1x128)
    b32=$(value hf_ms_b32x128)
    echo "{\"name\":\"peer_bert_b1x128\", \"ms\":${b1:-null}, \"torch_threads\":$threads}"
    echo "{\"name\":\"peer_bert_b32x128\", \"ms\":${b32:-null}, \"torch_threads\":$threads}"
    # MechaMap's scan runs the model once per neuron: 9,216 passes for MiniLM's
    # 6 x 1,536 MLP neurons, each at least a pass of 128 tokens with every
    # layer's MLP kept (the master text is longer, so this is a lower bound).
    hooked=$(value hf_ms_b1x128_mlp_post_all_layers)
    if [ -n "$hooked" ]; then
        estimate=$(awk -v ms="$hooked" 'BEGIN { printf "%.0f", ms * 9216 }')
        echo "{\"name\":\"peer_mechamap_scan_minilm_estimate\", \"ms\":$estimate, \"passes\":9216, \"ms_per_pass\":$hooked, \"torch_threads\":$threads}"
    fi
    exit 0
fi

# `scripts/peer-bench.sh sae [THREADS]`: one SAE training step in torch
# (../shared/peer/sae_bench.py), beside sae_step_standard and sae_step_gated.
if [ "${1:-}" = "sae" ]; then
    threads="${2:-2}"
    script="${PEER_SCRIPT:-../shared/peer/sae_bench.py}"
    if [ ! -x "$python" ] || [ ! -f "$script" ]; then
        echo "{\"name\":\"peer\", \"ms\":0, \"note\":\"torch SAE peer not run: needs PEER_PYTHON with torch (now $python) and PEER_SCRIPT (now $script)\"}"
        exit 0
    fi
    out=$("$python" "$script" 384 3072 4096 "$threads" 2>/dev/null)
    for kind in standard gated; do
        ms=$(value "torch_ms_sae_step_$kind")
        echo "{\"name\":\"peer_sae_step_$kind\", \"ms\":${ms:-null}, \"torch_threads\":$threads}"
    done
    exit 0
fi

script="${PEER_SCRIPT:-../shared/peer/tl_grok_bench.py}"
if [ ! -x "$python" ] || [ ! -f "$script" ]; then
    echo '{"name":"peer", "ms":0, "note":"TransformerLens peer not found; set PEER_PYTHON and PEER_SCRIPT (see ../shared/peer/README.md)"}'
    exit 0
fi
out=$("$python" "$script" "$epochs" "$threads" 2>/dev/null)
epoch=$(value tl_ms_per_epoch)
cache=$(value tl_ms_run_with_cache_all)
echo "{\"name\":\"peer_grokking_p113_epoch\", \"ms\":${epoch:-null}, \"epochs\":$epochs, \"torch_threads\":$threads}"
echo "{\"name\":\"peer_run_with_cache_all\", \"ms\":${cache:-null}, \"torch_threads\":$threads}"
