#!/usr/bin/env bash
# Runs the peer — TransformerLens's grokking setup on this CPU
# (../shared/peer/tl_grok_bench.py) — and prints its two timings as JSON lines
# in neuromap-bench's format, so `make bench` shows both side by side.
#
#   scripts/peer-bench.sh [EPOCHS] [THREADS]
#
# PEER_PYTHON names a Python with torch and transformer-lens<4 (default
# /tmp/peer/bin/python, as set up by ../shared/peer/README.md); PEER_SCRIPT the
# benchmark script. Without them it says so and exits 0: the peer is optional.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
python="${PEER_PYTHON:-/tmp/peer/bin/python}"
script="${PEER_SCRIPT:-../shared/peer/tl_grok_bench.py}"
epochs="${1:-20}"
threads="${2:-2}"
if [ ! -x "$python" ] || [ ! -f "$script" ]; then
    echo '{"name":"peer", "ms":0, "note":"TransformerLens peer not found; set PEER_PYTHON and PEER_SCRIPT (see ../shared/peer/README.md)"}'
    exit 0
fi
out=$("$python" "$script" "$epochs" "$threads" 2>/dev/null)
epoch=$(printf '%s\n' "$out" | awk '/tl_ms_per_epoch/ {print $2}')
cache=$(printf '%s\n' "$out" | awk '/tl_ms_run_with_cache_all/ {print $2}')
echo "{\"name\":\"peer_grokking_p113_epoch\", \"ms\":${epoch:-null}, \"epochs\":$epochs, \"torch_threads\":$threads}"
echo "{\"name\":\"peer_run_with_cache_all\", \"ms\":${cache:-null}, \"torch_threads\":$threads}"
