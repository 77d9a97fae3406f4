import XCTest
import NeuroTestSupport
import NeuroEngine
import NeuroModels
@testable import NeuroAnalysis

final class IrrepAnalysisTests: XCTestCase {
    /// a·b·c⁻¹ in S_n computed from the permutations themselves, not from any table:
    /// (a ∘ b)(i) = a(b(i)), as the dataset composes.
    func product(_ a: Int, _ b: Int, inverseOf c: Int, n: Int) throws -> Int {
        let pa = try Dataset.permutation(index: a, n: n), pb = try Dataset.permutation(index: b, n: n)
        let pc = try Dataset.permutation(index: c, n: n)
        var inverse = [Int](repeating: 0, count: n)
        for (i, image) in pc.enumerated() { inverse[image] = i }
        return try Dataset.permutationIndex((0..<n).map { pa[pb[inverse[$0]]] })
    }

    func testLogitSimilarityEqualsADirectComputationOnATrainedS3Model() throws {
        let data = try Dataset.symmetricGroup(n: 3, trainFraction: 0.5, seed: 0)
        let config = try TransformerConfig(nLayers: 1, nHeads: 2, dModel: 32, dHead: 16, dMLP: 64, dVocab: 7, dVocabOut: 6, nCtx: 3, seed: 1)
        let model = try HookedTransformer(config: config)
        let trainer = try Trainer(model: model, data: data, options: TrainingOptions(learningRate: 1e-2))
        try trainer.train(epochs: 200)
        let r = try IrrepAnalysis(model: model, data: data)

        // By hand: logits at '=' for every (a, b), centred over c, against χ(a·b·c⁻¹).
        let logits = try GradMode.withNoGrad { try model.run(data.tokens).logits.select(axis: 1, index: -1) }.toDoubles()   // [36, 6]
        let n = 6
        for (i, rep) in r.group.representations.enumerated() {
            let chi = rep.characters
            var dot = 0.0, normL = 0.0, normX = 0.0
            for a in 0..<n {
                for b in 0..<n {
                    let row = Array(logits[((a * n + b) * n)..<((a * n + b + 1) * n)])
                    let mean = row.reduce(0, +) / Double(n)
                    for c in 0..<n {
                        let x = chi[try product(a, b, inverseOf: c, n: 3)]
                        dot += (row[c] - mean) * x
                        normL += (row[c] - mean) * (row[c] - mean)
                        normX += x * x
                    }
                }
            }
            let expected = normX == 0 ? 0 : dot / (normL * normX).squareRoot()
            // The analysis runs the model at the last position only: float32 rounding differs there, and centring can amplify it.
            XCTAssertEqual(r.logitSimilarity[i], expected, accuracy: 1e-5, rep.name)
            XCTAssertEqual(r.logitExplained[i], expected * expected, accuracy: 1e-5, rep.name)
        }
        XCTAssertEqual(r.group.representations.map(\.name), ["[3]", "[2,1]", "[1,1,1]"])
        XCTAssertEqual(r.logitSimilarity[0], 0, "the trivial character is constant in c")
        // The trained model (seeded, so the same every run) has learned at least one representation.
        XCTAssertFalse(r.key.isEmpty, "\(r.logitSimilarity)")
        XCTAssertEqual(r.keyExplained, r.key.map { r.logitExplained[$0] }.reduce(0, +), accuracy: 1e-12)
        XCTAssertEqual(r.embeddingExplained.reduce(0, +), 1, accuracy: 1e-9)
        XCTAssertEqual(try XCTUnwrap(r.unembeddingExplained).reduce(0, +), 1, accuracy: 1e-9)
        let mlp = try XCTUnwrap(r.neuronExplained)
        XCTAssertEqual(mlp.count, 3)
        XCTAssertLessThanOrEqual(mlp.reduce(0, +), 1 + 1e-9)
    }

    /// A model trained on S_4 here, run in TransformerLens with characters taken from cycle
    /// types (Fixtures/make_irreps_fixtures.py): the same logit similarities.
    func testLogitSimilarityMatchesTransformerLensOnATrainedS4Model() throws {
        let file = try SafeTensors.read(fixturePath("irreps_s4_model.safetensors"))
        let config = try TransformerConfig(nLayers: 1, nHeads: 2, dModel: 32, dHead: 16, dMLP: 64, actFn: .relu, normalizationType: .none,
                                           dVocab: 25, dVocabOut: 24, nCtx: 3)
        let weights = file.tensors.filter { !$0.key.hasSuffix(".mask") && !$0.key.hasSuffix(".IGNORE") }
        let model = try HookedTransformer(config: config, weights: weights)
        let data = try Dataset.symmetricGroup(n: 4, trainFraction: 0.6, seed: 0)
        let r = try IrrepAnalysis(model: model, data: data)
        let expected = try XCTUnwrap(SafeTensors.read(fixturePath("irreps_s4_expected.safetensors")).tensors["logit_similarity"]).toDoubles()
        XCTAssertEqual(r.group.representations.map(\.name), ["[4]", "[3,1]", "[2,2]", "[2,1,1]", "[1,1,1,1]"])
        // float32 logits on both sides, centred and summed over 13,824 terms in Float64.
        for i in expected.indices { XCTAssertEqual(r.logitSimilarity[i], expected[i], accuracy: 1e-5, r.group.representations[i].name) }
        XCTAssertEqual(r.key.map { r.group.representations[$0].name }, ["[2,1,1]", "[3,1]", "[2,2]"])
    }

    func testLogitsMadeOfCharactersGiveTheirWeights() throws {
        let group = try FiniteGroup.symmetric(n: 4)
        let n = group.order
        let standard = group.representations[1].characters, sign = group.representations[4].characters
        var labels: [Int] = [], logits: [Double] = []
        for a in 0..<n {
            for b in 0..<n {
                let t = group.table[a][b]
                labels.append(t)
                // A constant per row (removed by centring) plus χ_[3,1] + ½ χ_sign of t·c⁻¹.
                for c in 0..<n { logits.append(Double(a) + standard[group.table[t][group.inverses[c]]] + 0.5 * sign[group.table[t][group.inverses[c]]]) }
            }
        }
        // An embedding whose rows are the sign times a vector: all in the sign's span.
        let width = 3
        let embedding = (0..<n).flatMap { g in [1.0, -2.0, 0.5].map { $0 * sign[g] } }
        let r = try IrrepAnalysis(group: group, labels: labels, logits: logits, embedding: embedding, unembedding: nil, width: width)
        // Each character tensor has squared norm |G|³ ⟨χ, χ⟩ = |G|³, so the cosines are 1/√1.25 and 0.5/√1.25.
        assertClose(r.logitSimilarity, [0, 1 / 1.25.squareRoot(), 0, 0, 0.5 / 1.25.squareRoot()], atol: 1e-9)
        XCTAssertEqual(r.key, [1, 4])
        XCTAssertEqual(r.keyExplained, 1, accuracy: 1e-9)
        assertClose(r.embeddingExplained, [0, 0, 0, 0, 1], atol: 1e-9)
        XCTAssertNil(r.unembeddingExplained)
    }

    func testNeuronsThatAreFunctionsOfTheProductAreExplained() throws {
        let group = try FiniteGroup.symmetric(n: 3)
        let n = group.order
        let sign = group.representations[2].characters
        var labels: [Int] = [], neurons: [Double] = []
        for a in 0..<n {
            for b in 0..<n {
                let t = group.table[a][b]
                labels.append(t)
                // Neuron 0: sign(a·b), all in the sign's span of a·b; neuron 1: sign(a), orthogonal to
                // every function of a·b (Σ_a sign(a) = 0); equal norms, so the sign explains half.
                neurons += [sign[t], sign[a]]
            }
        }
        let r = try IrrepAnalysis(group: group, labels: labels, logits: [Double](repeating: 0, count: n * n * n),
                                  embedding: [Double](repeating: 1, count: n), unembedding: nil, width: 1,
                                  neurons: neurons, neuronCount: 2)
        assertClose(try XCTUnwrap(r.neuronExplained), [0, 0, 0.5], atol: 1e-12)
        assertClose(r.logitSimilarity, [0, 0, 0], atol: 0)
    }

    func testMatrixEntrySpansCoverEveryFunctionOnTheGroup() throws {
        for group in [try FiniteGroup.cyclic(n: 6), try FiniteGroup.cyclic(n: 7), try FiniteGroup.dihedral(n: 5), try FiniteGroup.symmetric(n: 4)] {
            let spans = group.representations.map(IrrepAnalysis.entrySpan)
            XCTAssertEqual(spans.map(\.count).reduce(0, +), group.order, group.name)
            var generator = RandomGenerator(seed: 3)
            let width = 4
            let rows = (0..<(group.order * width)).map { _ in generator.nextUniform() - 0.5 }
            XCTAssertEqual(IrrepAnalysis.explained(rows, width: width, spans: spans).reduce(0, +), 1, accuracy: 1e-9, group.name)
        }
        // A rotation of C_7 spans cos and sin only: 2 functions, not 4.
        XCTAssertEqual(IrrepAnalysis.entrySpan(try FiniteGroup.cyclic(n: 7).representations[1]).count, 2)
    }

    func testBadInputIsRefused() throws {
        let s3 = try Dataset.symmetricGroup(n: 3, trainFraction: 0.5, seed: 0)
        let wrong = try HookedTransformer(config: TransformerConfig(nLayers: 1, nHeads: 1, dModel: 8, dHead: 8, dMLP: 16,
                                                                     dVocab: 25, dVocabOut: 24, nCtx: 3, seed: 0))
        XCTAssertThrowsError(try IrrepAnalysis(model: wrong, data: s3)) { error in
            XCTAssertTrue("\(error)".contains("the model (vocab 25→24) does not fit S_3 composition: S_3 has 6 elements, so its dataset has vocab 7→6"), "\(error)")
        }
        let modular = try Dataset.modular(.multiply, p: 7, trainFraction: 0.5, seed: 0)
        XCTAssertThrowsError(try IrrepAnalysis(model: wrong, data: modular)) { error in
            XCTAssertTrue("\(error)".contains("a*b mod 7 is not one"), "\(error)")
        }
    }
}
