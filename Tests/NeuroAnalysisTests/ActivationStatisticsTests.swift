import XCTest
import NeuroTestSupport
import NeuroEngine
import NeuroModels
@testable import NeuroAnalysis

final class ActivationStatisticsTests: XCTestCase {
    func testCorrelationOfNeuronsBuiltFromTheTarget() throws {
        let n = 50
        let target = normalSamples(n, 1, seed: 1)
        let noise = normalSamples(n, 1, seed: 2)
        // Columns: 2·t + 1, constant, −t, noise, t + small noise.
        let columns: [(name: String, values: [Double], r: Double?)] = [
            ("2t+1", target.map { 2 * $0 + 1 }, 1),
            ("constant", [Double](repeating: 3, count: n), nil),
            ("-t", target.map { -$0 }, -1),
            ("noise", noise, nil),
            ("t+ε", zip(target, noise).map { $0 + 0.01 * $1 }, nil),
        ]
        var values: [Double] = []
        for i in 0..<n { values += columns.map { $0.values[i] } }
        let c = try NeuronCorrelation(activations: Tensor(float64: values, shape: [n, columns.count]),
                                      target: Tensor(float64: target, shape: [n]))
        for (i, column) in columns.enumerated() {
            if let r = column.r { XCTAssertEqual(c.correlations[i], r, accuracy: 1e-12, column.name) }
        }
        XCTAssertTrue(c.correlations[1].isNaN)
        XCTAssertGreaterThan(c.correlations[4], 0.999)
        XCTAssertEqual(c.ranking.map(\.neuron), [0, 2, 4, 3, 1])
        XCTAssertThrowsError(try NeuronCorrelation(activations: Tensor(float64: values, shape: [n, 5]), target: Tensor(float64: [1, 2], shape: [2])))
    }

    func testNeuronGridMatchesSingleRuns() throws {
        let p = 7
        let config = try TransformerConfig(nLayers: 1, nHeads: 2, dModel: 8, dMLP: 12, normalizationType: .none,
                                           dVocab: p + 1, dVocabOut: p, nCtx: 3, seed: 1)
        let model = try HookedTransformer(config: config)
        let grid = try NeuronGrid.activations(model, p: p, layer: 0)
        XCTAssertEqual(grid.shape, [p, p, 12])
        let values = grid.toDoubles()
        for (a, b) in [(0, 0), (3, 5), (6, 1)] {
            let (_, cache) = try GradMode.withNoGrad {
                try model.run(Tensor(ints: [a, b, p], shape: [1, 3]), cache: .only([HookPoint(.mlpPost, layer: 0)]))
            }
            let single = try XCTUnwrap(cache[HookPoint(.mlpPost, layer: 0)]).select(axis: 1, index: -1).toDoubles()
            assertClose(Array(values[((a * p + b) * 12)..<((a * p + b + 1) * 12)]), single, rtol: 1e-5, atol: 1e-6)
        }
        XCTAssertEqual(try NeuronGrid.activations(model, p: p, layer: 0, site: .pattern).shape, [p, p, 2 * 3])
        XCTAssertEqual(try NeuronGrid.activations(model, p: p, layer: -1, site: .z).shape, [p, p, 2 * 4])
        XCTAssertThrowsError(try NeuronGrid.activations(model, p: p, layer: 1))
        XCTAssertThrowsError(try NeuronGrid.activations(model, p: p + 1, layer: 0))
    }

    func testPCAOfActivationsWithLeadingDimensions() throws {
        // 2 × 50 samples on a line through 3-d space, plus a little noise off it.
        let t = normalSamples(100, 1, seed: 3)
        let noise = normalSamples(100, 3, seed: 4)
        var values: [Double] = []
        for i in 0..<100 { values += [1, 2, -2].enumerated().map { $0.element * t[i] + 1e-3 * noise[i * 3 + $0.offset] } }
        let cases: [(k: Int?, kept: Int)] = [(nil, 3), (1, 1), (2, 2)]
        for c in cases {
            let r = try ActivationPCA(Tensor(float64: values, shape: [2, 50, 3]), components: c.k)
            XCTAssertEqual(r.samples, 100)
            XCTAssertEqual(r.features, 3)
            XCTAssertEqual(r.components.shape, [c.kept, 3])
            XCTAssertEqual(r.projected.shape, [100, c.kept])
            XCTAssertEqual(r.ratios.count, c.kept)
            XCTAssertGreaterThan(r.ratios[0], 0.9999)
            XCTAssertEqual(r.cumulative.last ?? 0, r.ratios.reduce(0, +), accuracy: 1e-12)
            XCTAssertEqual(r.singularValues.count, 3)
            assertClose(try r.components.slice(axis: 0, start: 0, end: 1).toDoubles().map(Swift.abs), [1 / 3, 2 / 3, 2 / 3], rtol: 0, atol: 1e-4)
        }
        XCTAssertThrowsError(try ActivationPCA(Tensor(float64: values, shape: [100, 3]), components: 4))
    }
}
