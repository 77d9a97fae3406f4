import XCTest
import NeuroTestSupport
import NeuroEngine
import NeuroModels
@testable import NeuroAnalysis

/// Parity with `transformer_lens.patching` on the 2-layer LayerNorm gelu
/// model (fixture from make_patching_fixtures.py).
final class PatchingParityTests: XCTestCase {
    /// Largest relative error per direction, printed once at the end.
    nonisolated(unsafe) static var worst: [String: Double] = [:]

    override class func tearDown() {
        for (key, error) in worst.sorted(by: { $0.key < $1.key }) {
            print("TransformerLens patching parity: max relative error \(key) = \(String(format: "%.3g", error))")
        }
        super.tearDown()
    }

    /// Each TransformerLens function and the specs that reproduce it.
    static let cases: [(function: String, specs: [SweepSpec])] = [
        ("resid_pre", [.residPre]),
        ("resid_mid", [.residMid]),
        ("resid_post", [.residPost]),
        ("attn_out", [.attnOut]),
        ("mlp_out", [.mlpOut]),
        ("block_every", SweepSpec.everyBlock),
        ("attn_head_out_all_pos", [.heads(.z)]),
        ("attn_head_pattern_by_pos", [SweepSpec(.pattern, by: [.layer, .head, .destPos])]),
        ("attn_head_pattern_dest_src_pos", [SweepSpec(.pattern, by: [.layer, .head, .destPos, .srcPos])]),
        ("attn_head_all_pos_every", SweepSpec.everyHead(byPosition: false)),
        ("attn_head_by_pos_every", SweepSpec.everyHead(byPosition: true)),
    ]

    func testSweepsMatchTransformerLens() throws {
        let file = try SafeTensors.read(fixturePath("tl_patching.safetensors"))
        func tensor(_ key: String) throws -> Tensor {
            guard let t = file.tensors[key] else { throw EngineError(.argument, "fixture has no '\(key)'") }
            return t
        }
        let weights = Dictionary(uniqueKeysWithValues: file.tensors.filter { $0.key.hasPrefix("model.") }
            .map { (String($0.key.dropFirst("model.".count)), $0.value) })
        let model = try HookedTransformer(stateDict: weights, actFn: .gelu)
        let metric = PatchingMetric(.logitDiff, labels: try tensor("labels"))
        for direction in PatchDirection.allCases {
            let patching = try ActivationPatching(model, clean: tensor("clean"), corrupted: tensor("corrupted"),
                                                  metric: metric, direction: direction)
            for c in PatchingParityTests.cases {
                let label = "\(direction.rawValue).\(c.function)"
                let sweep = try patching.sweep(c.specs)
                let expected = try tensor(label)
                XCTAssertEqual(sweep.values.shape, expected.shape, label)
                // Within rtol 1e-4 (atol 1e-5): the excess over that tolerance must not be positive.
                let pairs = Array(zip(sweep.values.toDoubles(), expected.toDoubles()))
                let excess = pairs.map { abs($0 - $1) - (1e-5 + 1e-4 * abs($1)) }.max() ?? 0
                XCTAssertLessThanOrEqual(excess, 0, label)
                XCTAssertEqual(sweep.clean, try tensor("clean_metric").item(), accuracy: 1e-5, label)
                XCTAssertEqual(sweep.corrupted, try tensor("corrupted_metric").item(), accuracy: 1e-5, label)
                let error = pairs.map { abs($0 - $1) / max(abs($1), 1e-3) }.max() ?? 0
                PatchingParityTests.worst[direction.rawValue] = max(PatchingParityTests.worst[direction.rawValue] ?? 0, error)
            }
        }
    }
}

/// Known answers, layouts and errors of activation patching sweeps.
final class PatchingSweepTests: XCTestCase {
    func trained() throws -> (HookedTransformer, DatasetSplit, Tensor) {
        let (model, data) = try PatchingFixtures.trained.get()
        let split = data.train
        // corrupt(a + 1): only the first token differs.
        let values = split.tokens.toInts().enumerated().map { i, t in i % 3 == 0 ? (t + 1) % 11 : t }
        return (model, split, try Tensor(ints: values, shape: split.tokens.shape))
    }

    func testOnlyTheCorruptedTokenMattersAtTheStartAndOnlyTheLastPositionAtTheEnd() throws {
        let (model, split, corrupted) = try trained()
        XCTAssertGreaterThan(try Metrics.accuracy(model(split.tokens), labels: split.labels), 0.95, "the tiny model should have learned its training set")
        let cases: [(spec: SweepSpec, metric: Metric, expected: [Double])] = [
            (SweepSpec(.residPre, by: [.pos], layer: 0), .logitDiff, [1, 0, 0]),
            (SweepSpec(.embed, by: [.pos]), .loss, [1, 0, 0]),
            (SweepSpec(.residPost, by: [.pos], layer: 0), .logitDiff, [0, 0, 1]),
            (SweepSpec(.unembedIn, by: [.pos]), .accuracy, [0, 0, 1]),
        ]
        for direction in PatchDirection.allCases {
            for c in cases {
                let patching = try ActivationPatching(model, clean: split.tokens, corrupted: corrupted,
                                                      metric: PatchingMetric(c.metric, labels: split.labels), direction: direction)
                let sweep = try patching.sweep([c.spec])
                // Denoising restores the clean run where normalised is 1; noising keeps it there.
                let expected = direction == .denoise ? c.expected : c.expected.map { 1 - $0 }
                for (value, want) in zip(sweep.normalized.toDoubles(), expected) {
                    XCTAssertEqual(value, want, accuracy: 1e-4, "\(direction) \(c.spec.name)")
                }
                XCTAssertNotEqual(sweep.clean, sweep.corrupted, c.spec.name)
            }
        }
    }

    func testIdenticalInputsGiveTheCleanMetricEverywhere() throws {
        let model = try PatchingFixtures.twoLayer()
        let tokens = try PatchingFixtures.tokens(8, 5, seed: 3)
        let patching = try ActivationPatching(model, clean: tokens, corrupted: tokens,
                                              metric: PatchingMetric(.logitDiff, labels: PatchingFixtures.ownLabels(model, tokens)))
        for specs in [SweepSpec.everyBlock, SweepSpec.everyHead(byPosition: true), [SweepSpec(.mlpPost, by: [.neuron], layer: 1)]] {
            let sweep = try patching.sweep(specs)
            assertClose(sweep.values.toDoubles(), [Double](repeating: sweep.clean, count: sweep.values.count), rtol: 1e-6, atol: 1e-6)
            // The corruption changes nothing, so the normalised effect is undefined, not 0.
            XCTAssertFalse(sweep.isNormalizable)
            XCTAssertTrue(sweep.normalized.toDoubles().allSatisfy(\.isNaN))
            XCTAssertNil(sweep.strongest?.normalized)
        }
    }

    /// Cells a last-position metric cannot read are skipped; running them for real gives the baseline too.
    func testCellsTheOutputCannotReadHaveNoEffect() throws {
        let model = try PatchingFixtures.twoLayer()
        let clean = try PatchingFixtures.tokens(8, 5, seed: 4)
        let corrupted = try PatchingFixtures.corrupt(clean, positions: 5, seed: 5)
        let labels = try PatchingFixtures.ownLabels(model, clean)
        let skipping = PatchingMetric(.logitDiff, labels: labels)
        // Reads all positions' logits (so nothing is skipped) but uses only the last.
        let running = PatchingMetric(name: "logit_diff", lastPositionOnly: false) { logits in
            try skipping.measure(logits.select(axis: 1, index: -1))
        }
        let specs = SweepSpec.everyHead(byPosition: true) + [.residPost, .mlpOut, SweepSpec(.unembedIn, by: [.pos])]
        for spec in specs {
            let fast = try ActivationPatching(model, clean: clean, corrupted: corrupted, metric: skipping).sweep([spec])
            let full = try ActivationPatching(model, clean: clean, corrupted: corrupted, metric: running).sweep([spec])
            XCTAssertEqual(fast.values.shape, full.values.shape, spec.name)
            for (a, b) in zip(fast.values.toDoubles(), full.values.toDoubles()) { XCTAssertEqual(a, b, accuracy: 1e-5, spec.name) }
            XCTAssertLessThanOrEqual(fast.forwardPasses, full.forwardPasses, spec.name)
        }
        // z of the last layer at an early position: exactly the corrupted run.
        let sweep = try ActivationPatching(model, clean: clean, corrupted: corrupted, metric: skipping).sweep([.headsByPosition(.z)])
        let values = sweep.values.toDoubles()
        for pos in 0..<4 {
            for head in 0..<2 { XCTAssertEqual(values[(1 * 5 + pos) * 2 + head], sweep.corrupted) }
        }
    }

    func testLayoutsAndLabels() throws {
        let model = try PatchingFixtures.twoLayer()
        let tokens = try PatchingFixtures.tokens(4, 5, seed: 6)
        let patching = try ActivationPatching(model, clean: tokens, corrupted: PatchingFixtures.corrupt(tokens, positions: 2, seed: 7),
                                              metric: PatchingMetric(.loss, labels: PatchingFixtures.ownLabels(model, tokens)))
        let cases: [(specs: [SweepSpec], shape: [Int], axes: [String])] = [
            ([.residPre], [2, 5], ["layer", "pos"]),
            (SweepSpec.everyBlock, [3, 2, 5], ["site", "layer", "pos"]),
            ([.heads(.v)], [2, 2], ["layer", "head"]),
            (SweepSpec.everyHead(byPosition: false), [5, 2, 2], ["site", "layer", "head"]),
            (SweepSpec.everyHead(byPosition: true), [5, 2, 5, 2], ["site", "layer", "pos", "head"]),
            ([SweepSpec(.pattern, by: [.layer, .head, .destPos, .srcPos])], [2, 2, 5, 5], ["layer", "head", "dest_pos", "src_pos"]),
            ([SweepSpec(.z, by: [.head, .neuron], layer: -1)], [2, 8], ["head", "neuron"]),
            ([SweepSpec(.attnOut, by: [], layer: 0)], [], []),
        ]
        for c in cases {
            let sweep = try patching.sweep(c.specs)
            XCTAssertEqual(sweep.values.shape, c.shape, sweep.title)
            XCTAssertEqual(sweep.axes, c.axes, sweep.title)
            XCTAssertEqual(sweep.axisLabels.map(\.count), c.shape, sweep.title)
        }
        let every = try patching.sweep(SweepSpec.everyHead(byPosition: false))
        XCTAssertEqual(every.axisLabels[0], ["z", "q", "k", "v", "pattern"])
        XCTAssertEqual(every.labels(ofCell: 5), ["q", "0", "1"])
    }

    func testMistakesAreNamed() throws {
        let model = try PatchingFixtures.twoLayer()
        let attentionOnly = try HookedTransformer(config: TransformerConfig(nLayers: 1, nHeads: 2, dModel: 8, dMLP: 0, dVocab: 10, nCtx: 5))
        let tokens = try PatchingFixtures.tokens(2, 5, seed: 8)
        let metric = PatchingMetric(.accuracy, labels: try Tensor(ints: [0, 1], shape: [2]))
        let patching = try ActivationPatching(model, clean: tokens, corrupted: tokens, metric: metric)
        let cases: [(ActivationPatching, [SweepSpec], String)] = [
            (patching, [SweepSpec(.residPre, by: [.layer, .head])], "sweep: resid_pre [batch, pos, d_model] has no 'head' axis"),
            (patching, [SweepSpec(.z, by: [.pos])], "sweep: z is in every block; sweep over 'layer' or name one layer"),
            (patching, [SweepSpec(.pattern, by: [.layer, .pos, .destPos])], "sweep: 'pos' and 'dest_pos' are the same axis of pattern"),
            (patching, [SweepSpec(.embed, by: [.layer])], "sweep: embed is not in a block, so it has no layer"),
            (patching, [SweepSpec(.z, by: [.head], layer: 2)], "sweep: layer 2 is out of range for a model with 2 layers"),
            (patching, [.residPre, .heads(.z)], "sweep: cannot stack z by layer × head [2, 2] with resid_pre by layer × pos [2, 5]"),
            (try ActivationPatching(attentionOnly, clean: tokens, corrupted: tokens, metric: metric), SweepSpec.everyBlock,
             "patching: this model has no blocks.0.hook_mlp_out (it is attention-only)"),
        ]
        for (engine, specs, message) in cases {
            XCTAssertThrowsError(try engine.sweep(specs)) { XCTAssertEqual("\($0)", message) }
        }
        XCTAssertThrowsError(try ActivationPatching(model, clean: tokens, corrupted: tokens.slice(axis: 1, start: 1), metric: metric)) {
            XCTAssertEqual("\($0)", "patching: corrupted inputs [2, 4] do not match clean inputs [2, 5]")
        }
    }
}

/// Zero, mean and resample ablation (Intervention.ablate) on the trained model.
final class AblationTests: XCTestCase {
    func testAblatingEverythingDestroysAccuracy() throws {
        let (model, data) = try PatchingFixtures.trained.get()
        let split = data.train
        let cases: [(HookPoint, Intervention.AblationMethod)] = [
            (HookPoint(.embed), .zero), (HookPoint(.embed), .resample), (HookPoint(.residPost, layer: 0), .zero),
            (HookPoint(.residPost, layer: 0), .mean), (HookPoint(.residPost, layer: 0), .resample), (HookPoint(.unembedIn), .mean),
        ]
        for (point, method) in cases {
            let r = try Intervention.ablate(model, tokens: split.tokens, labels: split.labels, at: point, method: method)
            XCTAssertGreaterThan(r.clean, 0.95, "\(point) \(method)")
            XCTAssertLessThan(r.intervened, 0.3, "\(point) \(method)")
        }
        // A slice the output cannot read changes nothing.
        let early = try Intervention.ablate(model, tokens: split.tokens, labels: split.labels, at: HookPoint(.mlpOut, layer: 0),
                                            method: .zero, slice: ActivationSlice(position: 0), metric: .loss)
        XCTAssertEqual(early.intervened, early.clean, accuracy: 1e-6)
    }
}
