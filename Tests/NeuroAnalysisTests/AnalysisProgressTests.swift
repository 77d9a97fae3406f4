import XCTest
import NeuroEngine
import NeuroModels
@testable import NeuroAnalysis

/// Records what a long analysis says of its progress (`StepProgress`), and
/// can stop it as Ctrl-C does, by throwing once `done` reaches `stopAt`.
final class ProgressRecorder {
    var calls: [(done: Int, total: Int)] = []
    let stopAt: Int?

    init(stopAt: Int? = nil) { self.stopAt = stopAt }

    var callback: StepProgress {
        { [self] done, total in
            calls.append((done, total))
            if let stopAt, done >= stopAt { throw EngineError(.interrupted, "stopped by the test") }
        }
    }

    var done: [Int] { calls.map(\.done) }

    /// From 0 up to `total` by increasing steps, always of the same total.
    func assertCounts(upTo total: Int, _ message: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(calls.first?.done, 0, message, file: file, line: line)
        XCTAssertEqual(calls.last?.done, total, message, file: file, line: line)
        XCTAssertTrue(calls.allSatisfy { $0.total == total }, "\(message): totals \(calls.map(\.total))", file: file, line: line)
        XCTAssertTrue(zip(done, done.dropFirst()).allSatisfy { $0 < $1 }, "\(message): \(done)", file: file, line: line)
    }
}

/// Every long analysis tells its callback how far it is, step by step up to
/// its total, and stops with the callback's error when the callback throws.
final class AnalysisProgressTests: XCTestCase {
    func patching() throws -> ActivationPatching {
        let model = try PatchingFixtures.twoLayer()
        let clean = try PatchingFixtures.tokens(3, 5, seed: 1)
        return try ActivationPatching(model, clean: clean, corrupted: PatchingFixtures.corrupt(clean, positions: 2, seed: 2),
                                      labels: PatchingFixtures.ownLabels(model, clean))
    }

    func testSweepCountsEveryCellOfEveryStackedGrid() throws {
        let engine = try patching()
        let one = ProgressRecorder()
        let grid = try engine.sweep([SweepSpec(.mlpPost, by: [.pos, .neuron], layer: 0)], progress: one.callback)
        XCTAssertEqual(grid.values.shape, [5, 32])
        one.assertCounts(upTo: 5 * 32, "mlp_post by pos × neuron")
        XCTAssertEqual(one.done, Array(0...(5 * 32)), "one call per cell, skipped cells included")

        let stacked = ProgressRecorder()
        _ = try engine.sweep(SweepSpec.everyBlock, progress: stacked.callback)
        stacked.assertCounts(upTo: 3 * 2 * 5, "every_block: 3 sites × 2 layers × 5 positions")
        // The same grid with or without someone listening.
        XCTAssertEqual(try engine.sweep([SweepSpec(.mlpPost, by: [.pos, .neuron], layer: 0)]).values.toDoubles(), grid.values.toDoubles())
    }

    func testAttributionAndPathPatchingCountTheirPasses() throws {
        let engine = try patching()
        let attribution = ProgressRecorder()
        _ = try engine.attribute([.residPre], progress: attribution.callback)
        XCTAssertEqual(attribution.done, [0, 2, 3])
        attribution.assertCounts(upTo: 3, "attribute")
        let path = ProgressRecorder()
        _ = try engine.pathPatch(from: PathSender(HookPoint(.z, layer: 0), head: 1), to: [.query(layer: 1, head: 0)], progress: path.callback)
        XCTAssertEqual(path.done, [0, 2, 3])
    }

    func testCircuitDiscoveryCountsComponentsAndEdges() throws {
        let model = try oneHeadModel()
        let tokens = try randomTokens(16, seed: 1)
        let labels = try ownAnswers(model, tokens)
        let importance = ProgressRecorder()
        let r = try CircuitDiscovery.importance(model, tokens: tokens, labels: labels, ablation: .mean, progress: importance.callback)
        importance.assertCounts(upTo: r.components.count, "importance")
        XCTAssertEqual(importance.calls.count, r.components.count + 1)
        let acdc = ProgressRecorder()
        let a = try CircuitDiscovery.acdc(model, tokens: tokens, labels: labels, ablation: .mean, tau: 1e-3, progress: acdc.callback)
        XCTAssertEqual(a.edgeCount, 29)
        acdc.assertCounts(upTo: a.edgeCount, "acdc")
        XCTAssertEqual(acdc.done, Array(0...a.edgeCount))
    }

    func testNeuronScanCountsPermutations() throws {
        var words: [ScanText.Word] = []
        for i in 0..<50 { words.append(.init(key: i % 10 == 0 ? "dog" : "w\(i)", tokens: ["t\(i)"])) }
        let text = ScanText(words: words, categories: [("animal", ["dog"])]) { [$0] }
        let activations = (0..<100).map { Float($0 % 7) / 7 }
        let neurons = (0..<2).map { ScanNeuron(layer: 0, index: $0) }
        let recorder = ProgressRecorder()
        _ = try NeuronScan(text: text, activations: activations, neurons: neurons, threshold: 0.5, topK: 1, permutations: 100, seed: 3,
                           progress: recorder.callback)
        XCTAssertEqual(recorder.done, [0, 32, 64, 96, 100])   // chunks of 32 permutations
        recorder.assertCounts(upTo: 100, "scan")
    }

    func testProgressMeasuresCountCheckpoints() throws {
        let data = try Dataset.modular(.add, p: 7, trainFraction: 0.5, seed: 1)
        let config = try TransformerConfig(nLayers: 1, nHeads: 1, dModel: 8, dHead: 8, dMLP: 16, normalizationType: .none,
                                           dVocab: 8, dVocabOut: 7, nCtx: 3, seed: 2)
        let trainer = try Trainer(model: HookedTransformer(config: config), data: data,
                                  options: TrainingOptions(learningRate: 3e-3, checkpointEvery: 5))
        try trainer.train(epochs: 20)
        let recorder = ProgressRecorder()
        let m = try ProgressMeasures(config: config, checkpoints: trainer.checkpoints, data: data, keyFrequencies: [1], progress: recorder.callback)
        XCTAssertEqual(m.epochs, [0, 5, 10, 15, 20])
        XCTAssertEqual(recorder.done, [0, 1, 2, 3, 4, 5])
        recorder.assertCounts(upTo: 5, "progress")
    }

    /// A throw from the callback ends the analysis with that error, at the step it was thrown.
    func testAThrowingCallbackStopsTheWork() throws {
        let engine = try patching()
        let sweep = ProgressRecorder(stopAt: 3)
        XCTAssertThrowsError(try engine.sweep([SweepSpec(.mlpPost, by: [.pos, .neuron], layer: 0)], progress: sweep.callback)) { error in
            XCTAssertEqual((error as? EngineError)?.kind, .interrupted)
        }
        XCTAssertEqual(sweep.done, [0, 1, 2, 3], "no cell is measured after the throw")

        let model = try oneHeadModel()
        let tokens = try randomTokens(16, seed: 1)
        let labels = try ownAnswers(model, tokens)
        let acdc = ProgressRecorder(stopAt: 5)
        XCTAssertThrowsError(try CircuitDiscovery.acdc(model, tokens: tokens, labels: labels, ablation: .mean, progress: acdc.callback)) { error in
            XCTAssertEqual((error as? EngineError)?.kind, .interrupted)
        }
        XCTAssertEqual(acdc.done.last, 5)
    }
}
