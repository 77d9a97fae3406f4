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
        let structure = try ModularStructure(.add, p: p)
        XCTAssertEqual(try XCTUnwrap(structure.logitFit(logits, frequencies: [3])), 1, accuracy: 1e-5)
        XCTAssertEqual(try XCTUnwrap(structure.logitFit(logits, frequencies: [4])), 0, accuracy: 1e-5)
    }

    // MARK: - Standing out

    /// W [p, d] whose spectrum has the given energy at each frequency (index k − 1), spread over its cos and sin rows.
    func embedding(p: Int, energies: [Double]) throws -> Tensor {
        let basis = try FourierBasis(p: p)
        let d = 2 * basis.frequencyCount
        var f = [Double](repeating: 0, count: p * d)
        for (i, (_, rows)) in basis.frequencyRows.enumerated() {
            for (j, row) in rows.enumerated() { f[row * d + 2 * i + j] = (energies[i] / Double(rows.count)).squareRoot() }
        }
        return try basis.matrix.transposed().matmul(Tensor(float64: f, shape: [p, d]))
    }

    func testStandOutRule() throws {
        let p = 31
        func key(_ energies: [Double]) throws -> KeyFrequencies {
            try FourierSpectrum(embedding(p: p, energies: energies), basis: FourierBasis(p: p)).keyFrequencies()
        }
        // An even spread: nothing stands out, however the largest-drop cut falls.
        let flat = try key((1...15).map { 1 + 0.01 * Double($0) })
        XCTAssertFalse(flat.standsOut)
        XCTAssertEqual(flat.frequencies, [])
        XCTAssertEqual(flat.summary, "no frequency stands out (largest share 7.1%, an even spread gives 6.7%)")
        // Three frequencies far above the rest, with a sharp drop after them.
        var clear = [Double](repeating: 1, count: 15)
        clear[3] = 30; clear[8] = 25; clear[10] = 20
        let found = try key(clear)
        XCTAssertEqual(found.frequencies, [4, 9, 11])
        XCTAssertEqual(found.explained, 75.0 / 87, accuracy: 1e-9)
        XCTAssertEqual(found.chance, 3.0 / 15, accuracy: 1e-9)
        XCTAssertEqual(found.summary, "key frequencies 4 9 11")
        // High, but declining gently: no sharp drop, so no set stands out.
        let gentle = try key([10, 7, 5, 3.6, 2.6, 1.9, 1.4] + [Double](repeating: 1, count: 8))
        XCTAssertEqual(gentle.candidates, [1])
        XCTAssertGreaterThan(gentle.lift, KeyFrequencies.minimumLift, "the top holds well above an even share")
        XCTAssertLessThan(gentle.sharpness, KeyFrequencies.minimumSharpness)
        XCTAssertFalse(gentle.standsOut)
        // A sharp drop after a set that holds little more than chance (half the frequencies): not key either.
        var half = [Double](repeating: 1, count: 15)
        for i in 0..<7 { half[i] = 2.5 }
        let broad = try key(half)
        XCTAssertGreaterThanOrEqual(broad.sharpness, KeyFrequencies.minimumSharpness)
        XCTAssertFalse(broad.standsOut)
    }

    func testTheTopFrequencyOfAnEvenOrderIsNotPenalised() throws {
        // Order 10: frequency 5 has only a cos row, so its even share is half the others'.
        var energies = [Double](repeating: 1, count: 5)
        energies[4] = 0.5 * 12
        let key = try FourierSpectrum(embedding(p: 10, energies: energies), basis: FourierBasis(p: 10)).keyFrequencies()
        XCTAssertEqual(key.frequencies, [5])
        XCTAssertEqual(key.chance, 1.0 / 9, accuracy: 1e-12)
    }

    /// The thresholds against freshly initialised transformers (the language's
    /// default init): none may show a key frequency, in either basis.
    func testRandomInitialisationHasNoStandOutFrequency() throws {
        for (p, dModel, seed) in [(59, 128, UInt64(999)), (59, 128, 1), (31, 16, 2), (13, 8, 3)] {
            let config = try TransformerConfig(nLayers: 1, nHeads: 4, dModel: dModel, dMLP: 4 * dModel, normalizationType: .none,
                                               dVocab: p + 1, dVocabOut: p, nCtx: 3, seed: seed)
            let model = try HookedTransformer(config: config)
            for op in [ModularOperation.add, .multiply] {
                let f = try FourierAnalysis(model: model, p: p, operation: op)
                XCTAssertFalse(f.key.standsOut, "p \(p), d_model \(dModel), \(op): lift \(f.key.lift), sharpness \(f.key.sharpness)")
                XCTAssertEqual(f.key.frequencies, [])
                XCTAssertTrue(f.circles.isEmpty)
                XCTAssertNil(f.logitFit)
                XCTAssertEqual(f.logitFitNote, "no key frequency to test")
                XCTAssertEqual(f.circularity, 0)
                XCTAssertTrue(f.key.summary.hasPrefix("no frequency stands out (largest share "), f.key.summary)
            }
        }
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
        XCTAssertEqual(measures.concentration.map(\.field), ["gini_embed", "gini_logit"])
        XCTAssertTrue(measures.concentration[0].values.allSatisfy { (0...1).contains($0) })
    }

    func testProgressMeasuresNeedCheckpointsAndAKnownStructure() throws {
        let data = try Dataset.modular(.sumOfSquares, p: 7, trainFraction: 0.5, seed: 1)
        let config = try TransformerConfig(nLayers: 1, nHeads: 1, dModel: 8, dMLP: 8, normalizationType: .none,
                                           dVocab: 8, dVocabOut: 7, nCtx: 3)
        XCTAssertThrowsError(try ProgressMeasures(config: config, checkpoints: [], data: data)) { error in
            XCTAssertTrue("\(error)".contains("need checkpoints"), "\(error)")
        }
        let model = try HookedTransformer(config: config)
        let checkpoint = Checkpoint(epoch: 0, weights: model.stateDict)
        XCTAssertThrowsError(try ProgressMeasures(config: config, checkpoints: [checkpoint], data: data)) { error in
            XCTAssertEqual("\(error)", "progress measures need an operation with a known Fourier structure (a+b, a−b, a·b or a÷b mod p); "
                + "a^2+b^2 mod 7 has none")
        }
        let plain = try Dataset.addition(p: 4, trainFraction: 0.5, seed: 1)
        XCTAssertThrowsError(try ProgressMeasures(config: config, checkpoints: [checkpoint], data: plain)) { error in
            XCTAssertEqual("\(error)", "progress measures need modular arithmetic data (a+b, a−b, a·b or a÷b mod p) or a group dataset (S_n, C_n, D_n); this is a+b (p = 4, no mod)")
        }
        let multiply = try Dataset.modular(.multiply, p: 7, trainFraction: 0.5, seed: 1)
        XCTAssertThrowsError(try ProgressMeasures(config: config, checkpoints: [checkpoint], data: multiply, keyFrequencies: [4])) { error in
            XCTAssertEqual("\(error)", "key frequency 4 is outside 1...3 for discrete log, generator 3, over ℤ_6")
        }
        let measures = try ProgressMeasures(config: config, checkpoints: [checkpoint], data: multiply)
        guard case .fourier(let structure, let frequencies, let found) = measures.basis else { return XCTFail("\(measures.basis)") }
        XCTAssertEqual(structure.basisDescription, "discrete log, generator 3, over ℤ_6")
        XCTAssertEqual(frequencies, [], "a random model has no key frequency")
        XCTAssertEqual(found?.standsOut, false)
    }
}
