import XCTest
import Foundation
import NeuroEngine
import NeuroTestSupport
@testable import NeuroModels

/// The toy model of superposition (Elhage et al. 2022) finds the paper's
/// geometry: a regular pentagon for five sparse features in two dimensions,
/// and only the most important features, one dimension each, when the
/// features are dense.
final class ToySuperpositionTests: XCTestCase {
    /// The best regular pentagon's norm and bias for sparsity 0.95, equal
    /// importance (Fixtures/make_pentagon_reference.py: r = 1.1346, b = −0.2461).
    static let pentagonNorm = 1.1346, pentagonBias = -0.2461

    /// Trains a fresh model on features of `sparsity` with the built-in's defaults unless told.
    func trained(nFeatures: Int = 5, dHidden: Int = 2, sparsity: Double, importance: Double = 1, steps: Int = 2000,
                 batch: Int = 1024, lr: Double = 1e-2, seed: UInt64 = 0) throws -> (ToySuperposition, ToyTrainingRun) {
        let model = try ToySuperposition(nFeatures: nFeatures, dHidden: dHidden,
                                         importance: ToySuperposition.decayingImportance(importance, count: nFeatures), seed: seed)
        let features = try SyntheticFeatures(nFeatures: nFeatures, sparsity: sparsity)
        let run = try model.train(on: features, steps: steps, batchSize: batch, learningRate: lr, seed: seed)
        return (model, run)
    }

    /// Feature norms and, for d_hidden = 2, the angles between neighbouring directions (degrees, going round).
    func geometry(_ model: ToySuperposition) -> (norms: [Double], gaps: [Double]) {
        let w = model.W.toDoubles(), n = model.nFeatures            // [2, n]
        let norms = (0..<n).map { (w[$0] * w[$0] + w[n + $0] * w[n + $0]).squareRoot() }
        let angles = (0..<n).map { i -> Double in
            let a = atan2(w[n + i], w[i]) * 180 / Double.pi
            return a < 0 ? a + 360 : a
        }.sorted()
        let gaps = (0..<n).map { i in i + 1 < n ? angles[i + 1] - angles[i] : angles[0] + 360 - angles[i] }
        return (norms, gaps)
    }

    func testFiveSparseFeaturesInTwoDimensionsFormARegularPentagon() throws {
        // The built-in's defaults. Seeds 0–7 all give norms 1.10–1.15 and neighbours 70.7°–73.1° apart.
        let (model, run) = try trained(sparsity: 0.95)
        let (norms, gaps) = geometry(model)
        for norm in norms {
            XCTAssertEqual(norm, 1, accuracy: 0.2, "every feature is represented: \(norms)")
            XCTAssertEqual(norm, Self.pentagonNorm, accuracy: 0.05, "the best pentagon's norm: \(norms)")
        }
        for gap in gaps { XCTAssertEqual(gap, 72, accuracy: 5, "neighbours 72° apart: \(gaps)") }
        for bias in model.b.toDoubles() { XCTAssertEqual(bias, Self.pentagonBias, accuracy: 0.05) }
        XCTAssertEqual(run.losses.count, 2000)
        XCTAssertLessThan(run.finalLoss, run.losses[0] / 5, "training lowers the loss")
        XCTAssertEqual(run.finalLoss, 0.0089, accuracy: 0.004, "the best pentagon's expected loss")
    }

    func testDenseFeaturesOfDecayingImportanceKeepOnlyTheMostImportant() throws {
        // No sparsity: the model keeps d_hidden features, each in a dimension of its own, and drops the rest.
        // (Seeds 0–7 all keep features 0 and 1 at norm 1 ± 0.01 and leave the rest below 0.07.)
        let (model, _) = try trained(nFeatures: 5, dHidden: 2, sparsity: 0, importance: 0.7, steps: 1500, batch: 256)
        let (norms, _) = geometry(model)
        XCTAssertEqual(norms[0], 1, accuracy: 0.1, "\(norms)")
        XCTAssertEqual(norms[1], 1, accuracy: 0.1, "\(norms)")
        for norm in norms[2...] { XCTAssertLessThan(norm, 0.1, "\(norms)") }
        let w = model.W.toDoubles()
        XCTAssertEqual(w[0] * w[1] + w[5] * w[6], 0, accuracy: 0.05, "the two kept features are orthogonal")
    }

    func testTheSameSeedGivesTheSameRun() throws {
        let (a, runA) = try trained(sparsity: 0.9, steps: 20, batch: 64)
        let (b, runB) = try trained(sparsity: 0.9, steps: 20, batch: 64)
        XCTAssertEqual(runA.losses, runB.losses)
        XCTAssertEqual(a.W.toDoubles(), b.W.toDoubles())
        let (_, runC) = try trained(sparsity: 0.9, steps: 20, batch: 64, seed: 1)
        XCTAssertNotEqual(runA.losses, runC.losses)
    }

    func testXavierNormalWeightsAndZeroBias() throws {
        let model = try ToySuperposition(nFeatures: 400, dHidden: 30, importance: Array(repeating: 1, count: 400), seed: 3)
        let w = model.W.toDoubles()
        let std = (w.reduce(0) { $0 + $1 * $1 } / Double(w.count)).squareRoot()
        XCTAssertEqual(std, (2.0 / 430).squareRoot(), accuracy: 0.003)
        XCTAssertEqual(model.W.shape, [30, 400])
        XCTAssertEqual(model.b.toDoubles(), Array(repeating: 0, count: 400))
        XCTAssertEqual(model.parameters.map(\.name), ["W", "b"])
    }

    func testTheLossIsTheImportanceWeightedSquaredError() throws {
        let model = try ToySuperposition(nFeatures: 3, dHidden: 2, importance: [1, 0.5, 0.25])
        try GradMode.withNoGrad {
            try model.W.assign(Tensor([1, 0, 1, 0, 2, 1], shape: [2, 3]))
            try model.b.assign(Tensor([0, -1, 0.5], shape: [3]))
        }
        let x = try Tensor([1, 0, 0, 0, 0.5, 1], shape: [2, 3])
        // WᵀW = [[1, 0, 1], [0, 4, 2], [1, 2, 2]]; row 0: ReLU([1, 0, 1] + b) = [1, 0, 1.5];
        // row 1: WᵀW·[0, 0.5, 1] = [1, 4, 3], + b → [1, 3, 3.5].
        assertClose(try model.forward(x), try Tensor([1, 0, 1.5, 1, 3, 3.5], shape: [2, 3]))
        // Errors: row 0 (0, 0, 1.5) → 0.25·2.25; row 1 (1, 2.5, 2.5) → 1 + 0.5·6.25 + 0.25·6.25.
        let expected = (0.25 * 2.25 + (1 + 0.5 * 6.25 + 0.25 * 6.25)) / 2
        XCTAssertEqual(try model.loss(on: Batch([x])).item(), expected, accuracy: 1e-6)
    }

    func testFeaturesAreSparseUniformAndSeeded() throws {
        let features = try SyntheticFeatures(nFeatures: 50, sparsity: 0.8)
        let x = try features.batch(rows: 400, seed: 7, step: 1).toDoubles()
        let nonzero = x.filter { $0 != 0 }
        XCTAssertEqual(Double(nonzero.count) / Double(x.count), 0.2, accuracy: 0.02)
        XCTAssert(nonzero.allSatisfy { $0 > 0 && $0 < 1 })
        XCTAssertEqual(nonzero.reduce(0, +) / Double(nonzero.count), 0.5, accuracy: 0.03)
        XCTAssertEqual(try features.batch(rows: 400, seed: 7, step: 1).toDoubles(), x)
        XCTAssertNotEqual(try features.batch(rows: 400, seed: 7, step: 2).toDoubles(), x)
        XCTAssertEqual(try SyntheticFeatures(nFeatures: 4, sparsity: 0).batch(rows: 10, seed: 0, step: 1).toDoubles().filter { $0 == 0 }.count, 0)
    }

    func testDecayingImportance() throws {
        assertClose(try ToySuperposition.decayingImportance(0.7, count: 4), [1, 0.7, 0.49, 0.343])
        XCTAssertEqual(try ToySuperposition.decayingImportance(1, count: 3), [1, 1, 1])
    }

    func testBadArgumentsAreRefusedNamingThem() throws {
        assertThrows("n_features must be from 1 to 2048, got 0") { try ToySuperposition(nFeatures: 0, dHidden: 2, importance: []) }
        assertThrows("d_hidden must be from 1 to 2048, got 100000") {
            try ToySuperposition(nFeatures: 2, dHidden: 100_000, importance: [1, 1])
        }
        assertThrows("importance has 2 numbers for 3 features") { try ToySuperposition(nFeatures: 3, dHidden: 2, importance: [1, 1]) }
        assertThrows("feature 1 has -1.0") { try ToySuperposition(nFeatures: 2, dHidden: 2, importance: [1, -1]) }
        assertThrows("importance is 0 for every feature") { try ToySuperposition(nFeatures: 2, dHidden: 2, importance: [0, 0]) }
        assertThrows("positive ratio r") { try ToySuperposition.decayingImportance(-0.5, count: 3) }
        assertThrows("sparsity must be in [0, 1)") { try SyntheticFeatures(nFeatures: 3, sparsity: 1) }
        assertThrows("sparsity must be in [0, 1)") { try SyntheticFeatures(nFeatures: 3, sparsity: .nan) }
        let model = try ToySuperposition(nFeatures: 5, dHidden: 2, importance: Array(repeating: 1, count: 5))
        let features = try SyntheticFeatures(nFeatures: 5, sparsity: 0.5)
        assertThrows("batch must be from 1 to 3355443 for 5 features") {
            try model.train(on: features, steps: 1, batchSize: 10_000_000, learningRate: 1e-3, seed: 0)
        }
        assertThrows("steps must be from 1 to 1000000, got 0") { try model.train(on: features, steps: 0, batchSize: 8, learningRate: 1e-3, seed: 0) }
        assertThrows("lr must be a positive number") { try model.train(on: features, steps: 1, batchSize: 8, learningRate: -1, seed: 0) }
        assertThrows("features must be [batch, 5]") { try model.forward(Tensor.zeros([2, 3])) }
    }

    func testAStopRequestEndsTheRunWithAnError() throws {
        let model = try ToySuperposition(nFeatures: 5, dHidden: 2, importance: Array(repeating: 1, count: 5))
        let features = try SyntheticFeatures(nFeatures: 5, sparsity: 0.5)
        assertThrows("superposition: interrupted") {
            try model.train(on: features, steps: 100, batchSize: 8, learningRate: 1e-3, seed: 0, shouldStop: { true })
        }
    }
}
