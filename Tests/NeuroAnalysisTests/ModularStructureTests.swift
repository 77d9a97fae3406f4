import XCTest
import NeuroTestSupport
import NeuroEngine
import NeuroModels
@testable import NeuroAnalysis

/// A 1-layer transformer that runs the Fourier algorithm of `structure` at
/// frequency `k` by construction: W_E puts residue r at angle 2πk·pos(r)/n
/// (pos from the structure: r itself, or its discrete log), head 0 copies
/// a's angle and head 1 b's into the residual stream, the MLP (random ReLU
/// features, its output fitted by least squares) makes cos and sin of
/// w(pos a + sign·pos b), and W_U turns them into `scale`·cos(w(pos a +
/// sign·pos b − pos c)). Built, not trained, so the right answer is known.
func fourierAlgorithmModel(_ structure: ModularStructure, k: Int, sign: Int, scale: Double = 1,
                           dMLP: Int = 96, seed: UInt64 = 5) throws -> HookedTransformer {
    let p = structure.p, n = structure.order, dModel = 12
    let config = try TransformerConfig(nLayers: 1, nHeads: 2, dModel: dModel, dHead: 2, dMLP: dMLP, normalizationType: .none,
                                       dVocab: p + 1, dVocabOut: p, nCtx: 3, seed: seed)
    var w: [String: Tensor] = [:]
    for (name, shape) in HookedTransformer.parameterShapes(config) { w[name] = try Tensor.zeros(shape) }
    func angle(_ position: Int) -> Double { 2 * Double.pi * Double(k * position % n) / Double(n) }
    func set(_ name: String, _ shape: [Int], _ entries: [([Int], Double)]) throws {
        var values = [Float](repeating: 0, count: shape.reduce(1, *))
        for (index, value) in entries {
            var flat = 0
            for (i, s) in zip(index, shape) { flat = flat * s + i }
            values[flat] = Float(value)
        }
        w[name] = try Tensor(values, shape: shape)
    }
    // Embedding: cos/sin of the residue's angle in dims 0, 1; position markers in dims 2, 3, 4.
    try set("embed.W_E", [p + 1, dModel], structure.residues.flatMap { r -> [([Int], Double)] in
        let i = structure.position(of: r) ?? 0
        return [([r, 0], cos(angle(i))), ([r, 1], sin(angle(i)))]
    })
    try set("pos_embed.W_pos", [3, dModel], [([0, 2], 1), ([1, 3], 1), ([2, 4], 1)])
    // Head h attends from '=' to position h only, copies dims 0, 1 to dims 5 + 2h, 6 + 2h.
    try set("blocks.0.attn.W_Q", [2, dModel, 2], [([0, 4, 0], 1), ([1, 4, 0], 1)])
    try set("blocks.0.attn.W_K", [2, dModel, 2], [([0, 2, 0], 60), ([1, 3, 0], 60)])
    try set("blocks.0.attn.W_V", [2, dModel, 2], [([0, 0, 0], 1), ([0, 1, 1], 1), ([1, 0, 0], 1), ([1, 1, 1], 1)])
    try set("blocks.0.attn.W_O", [2, 2, dModel], [([0, 0, 5], 1), ([0, 1, 6], 1), ([1, 0, 7], 1), ([1, 1, 8], 1)])
    var rng = RandomGenerator(seed: seed)
    try set("blocks.0.mlp.W_in", [dModel, dMLP], (5...8).flatMap { d in (0..<dMLP).map { ([d, $0], rng.nextNormal()) } })
    try set("blocks.0.mlp.b_in", [dMLP], (0..<dMLP).map { ([$0], 0.5 * rng.nextNormal()) })
    let model = try HookedTransformer(config: config, weights: w)

    // W_out: the least-squares map from the neurons to cos and sin of w(pos a + sign·pos b), into dims 9, 10.
    let post = HookPoint(.mlpPost, layer: 0)
    let (_, cache) = try model.run(structure.gridTokens(), cache: .only([post]))
    guard let acts = cache[post] else { throw EngineError(.argument, "no mlp_post") }
    let neurons = try acts.select(axis: 1, index: -1).cast(to: .float64)                                  // [n², d_mlp]
    var targets: [Double] = []
    for i in 0..<n { for j in 0..<n { targets += [cos(angle(i + sign * j + n)), sin(angle(i + sign * j + n))] } }
    let fit = try neurons.leastSquares(Tensor(float64: targets, shape: [n * n, 2])).toDoubles()             // [d_mlp, 2]
    try set("blocks.0.mlp.W_out", [dMLP, dModel], (0..<dMLP).flatMap { m in [([m, 9], fit[2 * m]), ([m, 10], fit[2 * m + 1])] })
    try set("unembed.W_U", [dModel, p], structure.residues.flatMap { c -> [([Int], Double)] in
        let l = structure.position(of: c) ?? 0
        return [([9, c], scale * cos(angle(l))), ([10, c], scale * sin(angle(l)))]
    })
    return try HookedTransformer(config: config, weights: w)
}

final class ModularStructureTests: XCTestCase {
    func testResiduesAreOrderedByDiscreteLog() throws {
        let seven = try ModularStructure(.multiply, p: 7)
        XCTAssertEqual(seven.group, .multiplicative(generator: 3))
        XCTAssertEqual(seven.residues, [1, 3, 2, 6, 4, 5])
        XCTAssertEqual(seven.basisDescription, "discrete log, generator 3, over ℤ_6")
        XCTAssertEqual(seven.exclusionNote, "residue 0 excluded")
        XCTAssertNil(seven.position(of: 0))
        XCTAssertEqual(seven.position(of: 6), 3)
        let fiftyNine = try ModularStructure(.divide, p: 59)
        XCTAssertEqual(fiftyNine.basisDescription, "discrete log, generator 2, over ℤ_58")
        XCTAssertEqual(fiftyNine.logitFormula, "cos(w(log a−log b−log c))")
        XCTAssertEqual(Set(fiftyNine.residues), Set(1..<59), "the powers of a primitive root run through every nonzero residue")
        XCTAssertEqual(try ModularStructure(.multiply, p: 113).residues.prefix(3), [1, 3, 9])
        XCTAssertEqual(ModularStructure.primitiveRoot(41), 6)
    }

    func testEachOperationHasItsFormula() throws {
        XCTAssertEqual(try ModularStructure(.add, p: 59).logitFormula, "cos(w(a+b−c))")
        XCTAssertEqual(try ModularStructure(.subtract, p: 59).logitFormula, "cos(w(a−b−c))")
        XCTAssertEqual(try ModularStructure(.subtract, p: 59).basisDescription, "additive ℤ_59")
        XCTAssertEqual(try ModularStructure(.multiply, p: 59).logitFormula, "cos(w(log a+log b−log c))")
        let squares = try ModularStructure(.sumOfSquares, p: 59)
        XCTAssertNil(squares.logitFormula)
        XCTAssertEqual(squares.noFormulaReason, "a^2+b^2 mod 59 has no known Fourier formula for its logits")
        let plain = try ModularStructure(task: .addition(p: 7))
        XCTAssertNil(plain.logitFormula)
        XCTAssertFalse(plain.outputsAreResidues)
        XCTAssertThrowsError(try ModularStructure(task: .symmetricGroup(n: 3)))
    }

    func testTheLogBasisNeedsAPrime() {
        XCTAssertThrowsError(try ModularStructure(.multiply, p: 12)) { error in
            XCTAssertEqual("\(error)", "p = 12 is not prime: the Fourier basis of a*b mod p runs over the discrete logarithm, "
                + "which needs a prime modulus (the nonzero residues mod a prime form a cyclic group)")
        }
        XCTAssertThrowsError(try ModularStructure(.multiply, p: 2)) { error in
            XCTAssertEqual("\(error)", "p = 2: the nonzero residues mod 2 are a group of one element, with no frequencies to analyse")
        }
        XCTAssertNoThrow(try ModularStructure(.add, p: 12), "the additive basis needs no prime")
    }

    func testSyntheticSubtractionLogitsFitTheirOwnFormulaOnly() throws {
        let p = 11
        var values = [Float](repeating: 0, count: p * p * p)
        for a in 0..<p { for b in 0..<p { for c in 0..<p {
            values[(a * p + b) * p + c] = Float(cos(2 * Double.pi * Double(3 * ((a - b - c) % p + 2 * p) % p) / Double(p)))
        } } }
        let logits = try Tensor(values, shape: [p * p, p])
        let subtract = try ModularStructure(.subtract, p: p), add = try ModularStructure(.add, p: p)
        XCTAssertEqual(try XCTUnwrap(subtract.logitFit(logits, frequencies: [3])), 1, accuracy: 1e-5)
        XCTAssertEqual(try XCTUnwrap(add.logitFit(logits, frequencies: [3])), 0, accuracy: 1e-5)
        XCTAssertNil(try ModularStructure(.sumOfSquares, p: p).logitFit(logits, frequencies: [3]))
    }

    // MARK: - Built models

    func testSubtractionModelFitsAMinusBAndNotAPlusB() throws {
        let p = 31
        let model = try fourierAlgorithmModel(ModularStructure(.subtract, p: p), k: 5, sign: -1)
        let right = try FourierAnalysis(model: model, p: p, operation: .subtract)
        let wrong = try FourierAnalysis(model: model, p: p, operation: .add)
        XCTAssertEqual(right.key.frequencies, [5])
        XCTAssertEqual(wrong.key.frequencies, [5], "the embedding's frequencies do not depend on the sign")
        XCTAssertGreaterThan(try XCTUnwrap(right.logitFit), 0.95)
        XCTAssertLessThan(try XCTUnwrap(wrong.logitFit), 0.02)
        XCTAssertEqual(right.structure.logitFormula, "cos(w(a−b−c))")
    }

    func testMultiplicationModelIsFoundInTheLogBasis() throws {
        let p = 31
        let structure = try ModularStructure(.multiply, p: p)
        let model = try fourierAlgorithmModel(structure, k: 7, sign: 1)
        let log = try FourierAnalysis(model: model, p: p, operation: .multiply)
        XCTAssertEqual(log.key.frequencies, [7])
        XCTAssertGreaterThan(log.circularity, 0.95)
        XCTAssertGreaterThan(try XCTUnwrap(log.logitFit), 0.95)
        XCTAssertEqual(log.circles.map(\.frequency), [7])
        XCTAssertEqual(log.circles[0].points.shape, [p, 2], "circles keep one row per residue, row a for residue a")
        // Residue gⁱ sits at angle 2π·7i/30 on the circle.
        let points = log.circles[0].points.toDoubles()
        let angles = structure.residues.map { atan2(points[2 * $0 + 1], points[2 * $0]) }
        let step = 2 * Double.pi * 7 / 30
        for i in 1..<angles.count {
            let turn = remainder(angles[i] - angles[i - 1] - step, 2 * Double.pi)
            XCTAssertLessThan(abs(turn), 0.05, "residue \(structure.residues[i])")
        }
        // Most neurons respond to the frequency they are built from.
        XCTAssertGreaterThan(log.neurons.filter { $0.frequency == 7 }.count, log.neurons.count * 3 / 4)
        // Read in the additive basis, the same embedding shows no clear frequency.
        let additive = try FourierAnalysis(model: model, p: p, operation: .add)
        XCTAssertFalse(additive.key.standsOut, "\(additive.key.summary), lift \(additive.key.lift)")
        XCTAssertNil(additive.logitFit)
    }

    func testDivisionModelFitsLogAMinusLogB() throws {
        let p = 29
        let model = try fourierAlgorithmModel(ModularStructure(.divide, p: p), k: 3, sign: -1)
        let divide = try FourierAnalysis(model: model, p: p, operation: .divide)
        let multiply = try FourierAnalysis(model: model, p: p, operation: .multiply)
        XCTAssertEqual(divide.key.frequencies, [3])
        XCTAssertGreaterThan(try XCTUnwrap(divide.logitFit), 0.95)
        XCTAssertLessThan(try XCTUnwrap(multiply.logitFit), 0.02)
    }

    func testAnOperationWithoutStructureHasNoLogitFit() throws {
        let model = try fourierAlgorithmModel(ModularStructure(.add, p: 23), k: 4, sign: 1)
        let f = try FourierAnalysis(model: model, p: 23, operation: .sumOfSquares)
        XCTAssertEqual(f.key.frequencies, [4], "the embedding is still read in the additive basis")
        XCTAssertNil(f.logitFit)
        XCTAssertEqual(f.logitFitNote, "a^2+b^2 mod 23 has no known Fourier formula for its logits")
    }

    // MARK: - Progress measures

    /// Restricted and excluded loss of a built model, with its operation's directions.
    func progress(_ op: ModularOperation, p: Int, k: Int, sign: Int, frequencies: [Int]) throws -> ProgressMeasures {
        let model = try fourierAlgorithmModel(ModularStructure(op, p: p), k: k, sign: sign, scale: 20)
        let data = try Dataset.modular(op, p: p, trainFraction: 0.5, seed: 3)
        return try ProgressMeasures(config: model.config, checkpoints: [Checkpoint(epoch: 0, weights: model.stateDict)], data: data,
                                    keyFrequencies: frequencies)
    }

    func testProgressMeasuresFollowTheOperation() throws {
        for (op, p, sign) in [(ModularOperation.subtract, 23, -1), (.multiply, 23, 1), (.divide, 23, -1)] {
            let kept = try progress(op, p: p, k: 3, sign: sign, frequencies: [3])
            let other = try progress(op, p: p, k: 3, sign: sign, frequencies: [5])
            let chance = Foundation.log(Double(p))
            // Keeping the model's own directions keeps what it computes; removing them leaves nothing.
            XCTAssertLessThan(kept.restrictedLoss[0], 0.5 * chance, "\(op)")
            XCTAssertGreaterThan(kept.excludedLoss[0], 0.9 * chance, "\(op)")
            // Another frequency's directions are the other way round.
            XCTAssertGreaterThan(other.restrictedLoss[0], 0.9 * chance, "\(op)")
            XCTAssertLessThan(other.excludedLoss[0], 0.5 * chance, "\(op)")
            guard case .fourier(let structure, _, _) = kept.basis else { return XCTFail("\(kept.basis)") }
            XCTAssertEqual(structure.sign, sign)
        }
    }

    func testProgressMeasuresRefuseAnOperationWithoutStructure() throws {
        let data = try Dataset.modular(.cubePlusProduct, p: 7, trainFraction: 0.5, seed: 1)
        let config = try TransformerConfig(nLayers: 1, nHeads: 1, dModel: 8, dMLP: 8, normalizationType: .none,
                                           dVocab: 8, dVocabOut: 7, nCtx: 3)
        let model = try HookedTransformer(config: config)
        XCTAssertThrowsError(try ProgressMeasures(config: config, checkpoints: [Checkpoint(epoch: 0, weights: model.stateDict)], data: data)) {
            XCTAssertEqual("\($0)", "progress measures need an operation with a known Fourier structure (a+b, a−b, a·b or a÷b mod p); "
                + "a^3+ab mod 7 has none")
        }
    }
}
