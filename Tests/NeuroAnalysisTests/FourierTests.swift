import XCTest
import NeuroTestSupport
import NeuroEngine
import NeuroModels
@testable import NeuroAnalysis

/// A 1-layer model whose embedding uses exactly the given frequencies: the
/// rows of W_E for residue a are cos/sin(2πka/p) for each k, in separate
/// coordinates, plus small noise elsewhere.
func handBuiltModel(p: Int, frequencies: [Int], noise: Double = 0.01) throws -> HookedTransformer {
    let config = try TransformerConfig(nLayers: 1, nHeads: 2, dModel: 16, dHead: 8, dMLP: 32, normalizationType: .none,
                                       dVocab: p + 1, dVocabOut: p, nCtx: 3, seed: 7)
    let model = try HookedTransformer(config: config)
    var rng = RandomGenerator(seed: 11)
    var values = [Float](repeating: 0, count: (p + 1) * 16)
    for a in 0...p {
        for d in 0..<16 { values[a * 16 + d] = Float(noise * rng.nextNormal()) }
        guard a < p else { continue }
        for (i, k) in frequencies.enumerated() {
            values[a * 16 + 2 * i] += Float(cos(2 * Double.pi * Double(k * a) / Double(p)))
            values[a * 16 + 2 * i + 1] += Float(sin(2 * Double.pi * Double(k * a) / Double(p)))
        }
    }
    try model.parameter("embed.W_E")!.assign(try Tensor(values, shape: [p + 1, 16]))
    return model
}

final class FourierTests: XCTestCase {
    func testBasisIsOrthonormalAndNamed() throws {
        for p in [7, 8, 113] {
            let basis = try FourierBasis(p: p)
            let product = try basis.matrix.matmul(basis.matrix.transposed())
            assertClose(product.toDoubles(), try Tensor.eye(p, dtype: .float64).toDoubles(), rtol: 0, atol: 1e-12)
            XCTAssertEqual(basis.names.count, p)
            XCTAssertEqual(basis.frequencyCount, p / 2)
        }
        XCTAssertEqual(try FourierBasis(p: 5).names, ["const", "cos 1", "sin 1", "cos 2", "sin 2"])
    }

    func testHandBuiltModelReportsExactlyItsFrequencies() throws {
        let model = try handBuiltModel(p: 31, frequencies: [4, 11])
        let analysis = try FourierAnalysis(model: model, p: 31)
        XCTAssertEqual(Set(analysis.key.frequencies), [4, 11])
        XCTAssertGreaterThan(analysis.circularity, 0.95)
        XCTAssertEqual(analysis.circles.count, 2)
        // Each circle: the residues sit on a circle, radius the same for all.
        let points = analysis.circles[0].points.toDoubles()
        var radii: [Double] = []
        for i in stride(from: 0, to: points.count, by: 2) {
            let (x, y) = (points[i], points[i + 1])
            radii.append((x * x + y * y).squareRoot())
        }
        let (smallest, largest) = (radii.min() ?? 0, radii.max() ?? 1)
        XCTAssertLessThan((largest - smallest) / largest, 0.1)
    }

    func testCircularityTellsAStructuredEmbeddingFromARandomOne() throws {
        let structured = try FourierAnalysis(model: handBuiltModel(p: 31, frequencies: [4, 11]), p: 31)
        let config = try TransformerConfig(nLayers: 1, nHeads: 2, dModel: 16, dHead: 8, dMLP: 32, normalizationType: .none,
                                           dVocab: 32, dVocabOut: 31, nCtx: 3, seed: 3)
        let random = try FourierAnalysis(model: HookedTransformer(config: config), p: 31)
        // A projection on the whole basis would explain 100% for both; the key-frequency share does not.
        XCTAssertGreaterThan(structured.circularity, 0.95)
        XCTAssertLessThan(random.circularity, 0.5)
        XCTAssertGreaterThan(structured.key.sharpness, 10 * random.key.sharpness)
        XCTAssertGreaterThan(structured.embedding.gini, random.embedding.gini + 0.3)
    }

    func testLogitFitOfPerfectlyPeriodicLogits() throws {
        let p = 11
        var values = [Float](repeating: 0, count: p * p * p)
        for a in 0..<p { for b in 0..<p { for c in 0..<p {
            values[(a * p + b) * p + c] = Float(cos(2 * Double.pi * Double(3 * (a + b - c + 2 * p) % p) / Double(p)))
        } } }
        let logits = try Tensor(values, shape: [p * p, p])
        XCTAssertEqual(try FourierAnalysis.logitFit(logits, p: p, frequencies: [3]), 1, accuracy: 1e-5)
        XCTAssertEqual(try FourierAnalysis.logitFit(logits, p: p, frequencies: [4]), 0, accuracy: 1e-5)
    }

    func testGini() {
        XCTAssertEqual(giniCoefficient([1, 1, 1, 1]), 0, accuracy: 1e-12)
        XCTAssertEqual(giniCoefficient([0, 0, 0, 1]), 0.75, accuracy: 1e-12)
    }

    func testNeuronFrequencyClustering() throws {
        // Neuron 0 is cos(2π·2a/p)·cos(2π·2b/p); neuron 1 is sin(2π·5(a+b)/p).
        let p = 13
        var values = [Float](repeating: 0, count: p * p * 2)
        for a in 0..<p { for b in 0..<p {
            values[(a * p + b) * 2] = Float(cos(2 * Double.pi * Double(2 * a) / Double(p)) * cos(2 * Double.pi * Double(2 * b) / Double(p)))
            values[(a * p + b) * 2 + 1] = Float(sin(2 * Double.pi * Double(5 * (a + b)) / Double(p)))
        } }
        let clusters = try FourierAnalysis.neuronFrequencies(Tensor(values, shape: [p, p, 2]), basis: FourierBasis(p: p))
        XCTAssertEqual(clusters[0].frequency, 2)
        XCTAssertEqual(clusters[1].frequency, 5)
        XCTAssertEqual(clusters[0].fraction, 1, accuracy: 1e-5)
        XCTAssertEqual(clusters[1].fraction, 1, accuracy: 1e-5)
    }

    func testNonModularModelIsRefused() throws {
        let config = try TransformerConfig(nLayers: 1, nHeads: 1, dModel: 8, dMLP: 8, dVocab: 5, dVocabOut: 5, nCtx: 3)
        XCTAssertThrowsError(try FourierAnalysis(model: HookedTransformer(config: config), p: 113)) { error in
            XCTAssertTrue("\(error)".contains("needs a model of modular arithmetic over p = 113"), "\(error)")
        }
    }
}


final class ProgressMeasuresTests: XCTestCase {
    func testMeasuresOnAShortRun() throws {
        let data = try Dataset.modular(.add, p: 13, trainFraction: 0.5, seed: 1)
        let config = try TransformerConfig(nLayers: 1, nHeads: 2, dModel: 16, dHead: 8, dMLP: 32, normalizationType: .none,
                                           dVocab: 14, dVocabOut: 13, nCtx: 3, seed: 2)
        let trainer = try Trainer(model: HookedTransformer(config: config), data: data,
                                  options: TrainingOptions(learningRate: 3e-3, checkpointEvery: 10))
        try trainer.train(epochs: 40)
        let measures = try ProgressMeasures(config: config, checkpoints: trainer.checkpoints, data: data, keyFrequencies: [1, 2])
        XCTAssertEqual(measures.epochs, [0, 10, 20, 30, 40])
        // Train and test loss are those of the checkpoint's weights.
        let (testLoss, _) = try trainer.evaluate(data.test)
        XCTAssertEqual(measures.testLoss.last!, testLoss, accuracy: 1e-6 * testLoss)
        XCTAssertLessThan(measures.trainLoss.last!, measures.trainLoss.first!)
        // Removing no directions leaves the training loss; keeping none leaves the mean logits.
        let none = try ProgressMeasures(config: config, checkpoints: trainer.checkpoints, data: data, keyFrequencies: [])
        for (excluded, train) in zip(none.excludedLoss, none.trainLoss) { XCTAssertEqual(excluded, train, accuracy: 1e-9) }
        XCTAssertTrue(measures.weightNorm.allSatisfy { $0 > 0 })
        XCTAssertTrue(measures.giniEmbedding.allSatisfy { (0...1).contains($0) })
    }

    func testPhasesFromSyntheticCurves() {
        let epochs = Array(stride(from: 0, through: 1000, by: 50))
        let train = epochs.map { e in e < 100 ? 4.7 : 0.001 }
        let test = epochs.map { e -> Double in e < 600 ? 10 : (e < 800 ? 10 * pow(0.001, Double(e - 550) / 250) : 0.01) }
        let phases = ProgressMeasures.locatePhases(epochs: epochs, trainLoss: train, testLoss: test)
        XCTAssertEqual(phases.memorization, 0...100)
        XCTAssertEqual(phases.circuitFormation.lowerBound, 100)
        XCTAssertTrue((600...700).contains(phases.cleanup.lowerBound), "\(phases)")
        XCTAssertTrue((750...850).contains(phases.cleanup.upperBound), "\(phases)")
    }

    func testProgressMeasuresNeedCheckpointsAndAddition() throws {
        let data = try Dataset.modular(.multiply, p: 7, trainFraction: 0.5, seed: 1)
        let config = try TransformerConfig(nLayers: 1, nHeads: 1, dModel: 8, dMLP: 8, normalizationType: .none,
                                           dVocab: 8, dVocabOut: 7, nCtx: 3)
        XCTAssertThrowsError(try ProgressMeasures(config: config, checkpoints: [], data: data)) { error in
            XCTAssertTrue("\(error)".contains("need checkpoints"), "\(error)")
        }
        let model = try HookedTransformer(config: config)
        let checkpoint = Checkpoint(epoch: 0, weights: model.stateDict)
        XCTAssertThrowsError(try ProgressMeasures(config: config, checkpoints: [checkpoint], data: data)) { error in
            XCTAssertTrue("\(error)".contains("need a+b mod p data"), "\(error)")
        }
    }
}
