// Benchmarks of the models and analyzers on the TransformerLens grokking
// setup (p = 113, 1 layer, 4 heads, d_model 128, d_mlp 512, ReLU, no
// LayerNorm, 30% of the 12,769 pairs for training, data seed 598), to be read
// side by side with the peer: ../shared/peer/tl_grok_bench.py.

import NeuroAnalysis
import NeuroEngine
import NeuroLanguage
import NeuroLab
import NeuroFuzz
import Foundation
import NeuroModels

/// The grokking demo's dataset and a freshly initialised model.
func grokkingSetup(seed: UInt64 = 999) throws -> (Dataset, HookedTransformer) {
    let data = try Dataset.modular(.add, p: 113, trainFraction: 0.3, seed: 598)
    let config = try TransformerConfig(nLayers: 1, nHeads: 4, dModel: 128, dHead: 32, dMLP: 512, actFn: .relu,
                                       normalizationType: .none, dVocab: 114, dVocabOut: 113, nCtx: 3, seed: seed)
    return (data, try HookedTransformer(config: config))
}

/// One epoch as the demo does it: forward, backward and AdamW on the 3,830
/// training pairs, plus the loss on the 8,939 test pairs. Timed over blocks of
/// epochs (the trainer shares each epoch out by halves on two threads), as ms per epoch;
/// then each part of the epoch alone (ModelBenchmarks+EpochParts.swift).
func benchGrokkingEpoch(_ context: inout Context) throws {
    let (data, model) = try grokkingSetup()
    let trainer = try Trainer(model: model, data: data)
    let block = 10
    let (iterations, warmup) = context.runs(5)
    let t = try measure(iterations: iterations, warmup: Swift.max(1, warmup / 2)) { try trainer.train(epochs: block) }
    let perEpoch = Timing(samples: t.samples.map { $0 / Double(block) })
    emit([("name", .string("grokking_p113_epoch"))] + timingFields(perEpoch)
         + [("epochs_per_sample", .int(block)), ("peer_readme_ms", .number(310))])
    try benchGrokkingEpochParts(&context)
}

/// `run_with_cache` on all 12,769 inputs, every hook cached.
func benchRunWithCacheAll(_ context: inout Context) throws {
    let (data, model) = try grokkingSetup()
    let (iterations, warmup) = context.runs(10)
    let t = try measure(iterations: iterations, warmup: warmup) {
        _ = try GradMode.withNoGrad { try model.run(data.tokens, cache: .all) }
    }
    emit([("name", .string("run_with_cache_all"))] + timingFields(t) + [("hooks", .int(model.hookPoints.count)), ("peer_readme_ms", .number(536))])
}

/// Progress measures over 250 checkpoints of the p = 113 model. The time does
/// not depend on the weights' values, so the checkpoints are 250 differently
/// seeded initialisations rather than a 25,000-epoch run.
func benchProgressMeasures(_ context: inout Context) throws {
    let data = try Dataset.modular(.add, p: 113, trainFraction: 0.3, seed: 598)
    let (_, template) = try grokkingSetup()
    let checkpoints = try (0..<250).map { i -> Checkpoint in
        let (_, model) = try grokkingSetup(seed: UInt64(i))
        return Checkpoint(epoch: i * 100, weights: model.stateDict)
    }
    let (iterations, warmup) = context.runs(1)
    let t = try measure(iterations: iterations, warmup: Swift.min(warmup, 0)) {
        _ = try ProgressMeasures(config: template.config, checkpoints: checkpoints, data: data, keyFrequencies: [14, 35, 41, 42, 52])
    }
    emit([("name", .string("progress_250_checkpoints"))] + timingFields(t) + [("checkpoints", .int(250)), ("target_ms", .number(60_000))])
}

/// The fuzzers: random, generated, deeply nested, huge-shaped and mutated
/// scripts through the parser, the name check and the evaluator, with Ctrl-C
/// at random points; then crafted files through every reader. None may crash
/// or hang; findings are listed in the report.
func benchFuzz(_ context: inout Context) throws {
    let count = context.iterations ?? 100_000
    let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    let corpus = Fuzzer.defaultCorpus + Fuzzer.scripts(under: root.appendingPathComponent("examples"))
        + Fuzzer.scripts(under: root.appendingPathComponent("Tests/NeuroLanguageTests/Golden"))
    var start = nowNanoseconds()
    let report = Fuzzer.run(count: count, seed: 1, corpus: corpus)
    var ms = Double(nowNanoseconds() - start) / 1e6
    emit([("name", .string("fuzz")), ("ms", .number(ms)), ("inputs", .int(count)), ("findings", .int(report.findings.count)),
          ("report", .string("\(report)"))])
    let files = max(count / 20, 100)
    start = nowNanoseconds()
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("neuromap-bench-filefuzz-\(getpid())").path
    defer { try? FileManager.default.removeItem(atPath: directory) }
    let fileReport = try FileFuzzer.run(count: files, seed: 1, directory: directory)
    ms = Double(nowNanoseconds() - start) / 1e6
    emit([("name", .string("fuzz_files")), ("ms", .number(ms)), ("inputs", .int(fileReport.files)),
          ("findings", .int(fileReport.findings.count)), ("report", .string("\(fileReport)"))])
}

/// A full layer × position × head patching sweep of the attention heads'
/// outputs (hook_z) on all 12,769 inputs, corrupted input a → a + 1.
func benchPatchingSweep(_ context: inout Context) throws {
    let (data, model) = try grokkingSetup()
    let shifted = [data.fieldValues[0].map { $0 + 1 }, data.fieldValues[1]]
    let patching = try ActivationPatching(model, clean: data.tokens, corrupted: data.tokens(fields: shifted),
                                          metric: PatchingMetric(.logitDiff, labels: data.labels))
    let (iterations, warmup) = context.runs(3)
    var passes = 0
    let t = try measure(iterations: iterations, warmup: Swift.min(warmup, 1)) {
        passes = try patching.sweep([.headsByPosition(.z)]).forwardPasses
    }
    emit([("name", .string("patching_sweep_z_p113"))] + timingFields(t) + [("forward_passes", .int(passes)), ("inputs", .int(data.count))])
}

/// The real MiniLM (all-MiniLM-L6-v2, a 6-layer BERT, d_model 384) on random
/// ids [batch, 128] (seed 0), no cache: `bert_b1x128` and `bert_b32x128`, to
/// be read beside ../shared/peer/hf_bert_bench.py (Hugging Face on torch,
/// 2 threads). The folder is `NEUROMAP_MINILM` when set, else the model
/// cache; without it the benchmark says so and is skipped.
func benchBERT(_ context: inout Context, batch: Int) throws {
    let name = "bert_b\(batch)x128"
    guard let folder = miniLMFolder(benchmark: name) else { return }
    let model = try Pretrained.load(folder)
    var rng = RandomGenerator(seed: 0)
    let ids = try Tensor(ints: (0..<(batch * 128)).map { _ in rng.nextInt(below: model.config.dVocab) }, shape: [batch, 128])
    let (iterations, warmup) = context.runs(batch == 1 ? 50 : 5)
    let t = try measure(iterations: iterations, warmup: warmup) {
        _ = try GradMode.withNoGrad { try model.run(ids) }
    }
    emit([("name", .string(name))] + timingFields(t) + [("peer_readme_ms", .number(batch == 1 ? 22 : 596))])
}

/// The MiniLM folder: `NEUROMAP_MINILM` when set, else the model cache. Nil
/// (and the benchmark reported as skipped, with how to get it) when absent.
func miniLMFolder(benchmark name: String) -> String? {
    let environment = ProcessInfo.processInfo.environment
    let folder = environment["NEUROMAP_MINILM"].flatMap { $0.isEmpty ? nil : $0 } ?? (try? ModelCache.folder(for: "all-minilm-l6-v2")) ?? ""
    guard FileManager.default.fileExists(atPath: folder + "/config.json") else {
        emit([("name", .string(name)), ("skipped", .string("no model at '\(folder)': run `\(ModelCache.fetchCommand(for: "all-minilm-l6-v2"))` or set NEUROMAP_MINILM"))])
        return nil
    }
    return folder
}

/// `scan(m)` in the language on the real MiniLM, after it is loaded: every
/// MLP neuron (6 × 1,536) over the default text and categories, with the
/// default 100 permutations. The target is under 1 s. `forward_passes` is 1
/// batch; MechaMap's way costs one pass per neuron (9,216 passes; see
/// `scripts/peer-bench.sh bert` for that estimate on Hugging Face).
func benchScanMiniLM(_ context: inout Context) throws {
    guard let folder = miniLMFolder(benchmark: "scan_minilm") else { return }
    let interpreter = NeuroLab.makeInterpreter()
    interpreter.output = { _ in }
    _ = try interpreter.run(NeuroLab.parse("m = load(\"\(folder)\")").program)
    let scan = NeuroLab.parse("r = scan(m)").program
    let (iterations, warmup) = context.runs(5)
    let t = try measure(iterations: iterations, warmup: warmup) { _ = try interpreter.run(scan) }
    guard case .object(let result as ResultValue)? = interpreter.globals.lookup("r"), case .number(let tokens)? = result.fields["tokens"] else {
        throw EngineError(.argument, "scan_minilm: the scan made no result")
    }
    emit([("name", .string("scan_minilm"))] + timingFields(t) + [
        ("neurons", .int(9216)), ("tokens", .int(Int(tokens))), ("target_ms", .number(1000)),
    ])
}

/// The synthetic benchmark of the sparse autoencoders at full size: for each
/// architecture with its default settings, on activations made of known
/// sparse directions (several feature counts, dimensions and sparsities),
/// the mean best cosine similarity of the true directions with the decoder
/// rows (target ≥ 0.9), with L0, explained variance and dead latents.
/// `SAE_STEPS`, `SAE_KINDS` (comma-separated), `SAE_CONFIGS` (the first n)
/// narrow it, and `SAE_SPARSITY`, `SAE_BANDWIDTH`, `SAE_THRESHOLD` change the
/// defaults, for experiments.
func benchSAESynthetic(_ context: inout Context) throws {
    let environment = ProcessInfo.processInfo.environment
    let steps = environment["SAE_STEPS"].flatMap { Int($0) } ?? 3000
    let kinds = environment["SAE_KINDS"].map { $0.split(separator: ",").compactMap { SAEKind(rawValue: String($0)) } } ?? SAEKind.allCases
    var configurations: [(features: Int, dimensions: Int, active: Double)] = [(64, 32, 3), (256, 64, 5), (512, 128, 8)]
    if let count = environment["SAE_CONFIGS"].flatMap({ Int($0) }) { configurations = Array(configurations.prefix(count)) }
    let number = { (name: String) in environment[name].flatMap { Double($0) } }
    for kind in kinds {
        for c in configurations {
            let data = try KnownDirections(features: c.features, dimensions: c.dimensions, expectedActive: c.active, samples: 32_768, seed: 1)
            let heldOut = try KnownDirections(features: c.features, dimensions: c.dimensions, expectedActive: c.active, samples: 4096, seed: 1,
                                                directions: data.directions)
            var config = SAEConfig(kind: kind, dIn: c.dimensions, dSAE: 2 * c.features, k: kind == .topk ? Int(c.active.rounded()) : nil)
            config.sparsity = number("SAE_SPARSITY") ?? config.sparsity
            config.bandwidth = number("SAE_BANDWIDTH") ?? config.bandwidth
            config.initialThreshold = number("SAE_THRESHOLD") ?? config.initialThreshold
            let start = nowNanoseconds()
            let sae = try SparseAutoencoder(config, fittedTo: data.activations)
            try sae.train(on: data.activations, schedule: .init(steps: steps, batchSize: 1024))
            let ms = Double(nowNanoseconds() - start) / 1e6
            let found = try SAEMetrics.recovery(of: data.directions, by: sae)
            let metrics = try SAEMetrics(sae, on: heldOut.activations)
            emit([("name", .string("sae_synthetic_\(kind.rawValue)_\(c.features)x\(c.dimensions)")), ("ms", .number(ms)),
                  ("recovery", .number(found.reduce(0, +) / Double(found.count))), ("target", .number(0.9)),
                  ("true_l0", .number(c.active)), ("l0", .number(metrics.l0)), ("explained_variance", .number(metrics.explainedVariance)),
                  ("dead", .int(metrics.deadFeatures)), ("steps", .int(steps))])
        }
    }
}

/// One training step of a sparse autoencoder (forward, backward, Adam) with
/// d_in 384, d_sae 3072 and a batch of 4096 random activations, as
/// ../shared/peer/sae_bench.py times torch: `sae_step_standard` and
/// `sae_step_gated` (the gated one with its decoder renormalised, as ours
/// trains it).
func benchSAEStep(_ context: inout Context, kind: SAEKind) throws {
    var rng = RandomGenerator(seed: 0)
    let x = try Tensor.randn([4096, 384], using: &rng)
    let sae = try SparseAutoencoder(SAEConfig(kind: kind, dIn: 384, dSAE: 3072), fittedTo: x)
    let batch = try Batch([sae.scaled(x)])
    let optimizer = try AdamW(parameters: sae.parameters, learningRate: 5e-5, weightDecay: 0)
    let (iterations, warmup) = context.runs(10)
    let t = try measure(iterations: iterations, warmup: warmup) {
        let loss = try sae.loss(on: batch)
        try loss.backward()
        try optimizer.step()
        optimizer.zeroGrad()
    }
    emit([("name", .string("sae_step_\(kind.rawValue)"))] + timingFields(t) + [
        ("d_in", .int(384)), ("d_sae", .int(3072)), ("batch", .int(4096)), ("peer_readme_ms", .number(kind == .gated ? 844 : 456)),
    ])
}
