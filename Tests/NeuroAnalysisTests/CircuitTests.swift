import Foundation
import XCTest
import NeuroTestSupport
import NeuroEngine
import NeuroModels
@testable import NeuroAnalysis

/// A 2-layer model (attention only unless `dMLP` > 0) in which every head
/// but `live` writes nothing (its W_O is zero), and `live`'s W_O is scaled
/// up so the answer depends on it.
func oneHeadModel(live: CircuitNode = .head(layer: 1, head: 0), dMLP: Int = 0,
                  norm: NormalizationType = .none, range: Double = 1.0) throws -> HookedTransformer {
    let config = try TransformerConfig(nLayers: 2, nHeads: 2, dModel: 16, dHead: 8, dMLP: dMLP, normalizationType: norm,
                                       dVocab: 10, nCtx: 4, seed: 5, initializerRange: range)
    let model = try HookedTransformer(config: config)
    for l in 0..<2 {
        guard let wO = model.parameter("blocks.\(l).attn.W_O") else { continue }
        let heads = try (0..<2).map { h -> Tensor in
            let w = try wO.detached().select(axis: 0, index: h)
            return try CircuitNode.head(layer: l, head: h) == live ? w * 3 : w * 0
        }
        try wO.assign(try Tensor.stack(heads, axis: 0))
    }
    return model
}

/// Seeded random inputs [batch, 4] over a vocabulary of 10.
func randomTokens(_ batch: Int, seed: UInt64) throws -> Tensor {
    var rng = RandomGenerator(seed: seed)
    return try Tensor(ints: (0..<(batch * 4)).map { _ in rng.nextInt(below: 10) }, shape: [batch, 4])
}

/// Labels that make the full model right everywhere: its own argmax.
func ownAnswers(_ model: HookedTransformer, _ tokens: Tensor) throws -> Tensor {
    try GradMode.withNoGrad { try model.run(tokens, positions: .last).logits.argmax(axis: -1) }
}

final class CircuitTests: XCTestCase {
    var clean = Tensor(scalar: 0)
    var corrupted = Tensor(scalar: 0)

    override func setUpWithError() throws {
        clean = try randomTokens(64, seed: 1)
        corrupted = try randomTokens(64, seed: 2)
    }

    func ablations() -> [(String, CircuitAblation)] {
        [("zero", .zero), ("mean", .mean), ("patch", .patch(corrupted: corrupted))]
    }

    func testGraphNodesAndEdges() throws {
        let cases: [(layers: Int, heads: Int, dMLP: Int, nodes: [String], edges: Int)] = [
            (1, 2, 8, ["embed", "a0.0", "a0.1", "m0", "unembed"], 2 * 3 + 3 + 4),
            (2, 2, 0, ["embed", "a0.0", "a0.1", "a1.0", "a1.1", "unembed"], 2 * 3 * 1 + 2 * 3 * 3 + 5),
            (2, 1, 8, ["embed", "a0.0", "m0", "a1.0", "m1", "unembed"], 3 * 1 + 2 + 3 * 3 + 4 + 5),
        ]
        for c in cases {
            let config = try TransformerConfig(nLayers: c.layers, nHeads: c.heads, dModel: 8, dMLP: c.dMLP,
                                               normalizationType: .none, dVocab: 5, nCtx: 3)
            let graph = CircuitGraph(config)
            XCTAssertEqual(graph.nodes.map(\.name), c.nodes)
            XCTAssertEqual(graph.edges.count, c.edges, "\(c.nodes)")
            XCTAssertEqual(Set(graph.edges).count, graph.edges.count)
            let order = graph.order()
            for edge in graph.edges {
                XCTAssertLessThan(order[edge.sender] ?? .max, order[edge.receiver] ?? .min, edge.name)
            }
        }
        XCTAssertFalse(CircuitNode.head(layer: 0, head: 0).writes(to: .head(layer: 0, head: 1)))
        XCTAssertTrue(CircuitNode.head(layer: 0, head: 0).writes(to: .mlp(layer: 0)))
        XCTAssertFalse(CircuitNode.mlp(layer: 0).writes(to: .head(layer: 0, head: 1)))
        XCTAssertEqual(CircuitEdge(sender: .embed, receiver: .head(layer: 0, head: 1), input: .v).name, "embed → a0.1 [v]")
    }

    func testKLOfTheFullModelWithItselfIsZero() throws {
        let model = try oneHeadModel()
        let runner = try CircuitRunner(model: model, tokens: clean, ablation: .mean)
        XCTAssertEqual(try CircuitDiscovery.klDivergence(runner.cleanLogits, runner.cleanLogits), 0, accuracy: 1e-12)
        XCTAssertEqual(try CircuitDiscovery.klDivergence(runner.cleanLogits, runner.logits(removingEdges: [])), 0, accuracy: 1e-12)
        XCTAssertEqual(try CircuitDiscovery.klDivergence(runner.cleanLogits, runner.logits(ablating: [])), 0, accuracy: 1e-9)
        let other = try runner.logits(ablating: [.head(layer: 1, head: 0)])
        XCTAssertGreaterThan(try CircuitDiscovery.klDivergence(runner.cleanLogits, other), 1e-3)
    }

    /// Cutting every edge out of a component is the same as removing it; cutting
    /// every edge of the graph with patching gives the corrupted run.
    func testEdgeRemovalIsExact() throws {
        let model = try oneHeadModel(live: .head(layer: 0, head: 1), dMLP: 12, range: 0.4)
        for (name, ablation) in ablations() {
            let runner = try CircuitRunner(model: model, tokens: clean, ablation: ablation)
            for node in [CircuitNode.head(layer: 0, head: 1), .mlp(layer: 0), .head(layer: 1, head: 0)] {
                let outgoing = Set(runner.graph.edges.filter { $0.sender == node })
                try assertSameLogits(runner.logits(removingEdges: outgoing), runner.logits(ablating: [node]), "\(name) \(node)")
            }
            if let corruptedLogits = runner.corruptedLogits {
                try assertSameLogits(runner.logits(removingEdges: Set(runner.graph.edges)), corruptedLogits, name)
            }
        }
    }

    /// Equal up to float32 rounding of the largest logit (these logits reach 1e5).
    func assertSameLogits(_ a: Tensor, _ b: Tensor, _ message: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let scale = b.toDoubles().map(Swift.abs).max() ?? 1
        assertClose(a.toDoubles(), b.toDoubles(), rtol: 0, atol: 1e-5 * scale, file: file, line: line)
        XCTAssertEqual(a.shape, b.shape, message, file: file, line: line)
    }

    func testImportanceOfSilentHeadsIsExactlyZero() throws {
        let model = try oneHeadModel()
        let labels = try ownAnswers(model, clean)
        for (name, ablation) in ablations() {
            let r = try CircuitDiscovery.importance(model, tokens: clean, labels: labels, ablation: ablation, threshold: 0.05)
            for row in r.components where row.node != .head(layer: 1, head: 0) {
                XCTAssertEqual(row.importance, 0, accuracy: 1e-6, "\(name) \(row.node)")
            }
            let live = try XCTUnwrap(r.components.first { $0.node == .head(layer: 1, head: 0) })
            XCTAssertGreaterThan(live.importance, 0.05, name)
            XCTAssertEqual(r.circuit.components.map(\.name), ["embed", "a1.0", "unembed"], name)
            XCTAssertEqual(r.circuit.scores.faithfulness, 1, accuracy: 1e-4, name)
            XCTAssertEqual(r.circuit.scores.completeness, 1, accuracy: 1e-4, name)
            XCTAssertEqual(r.circuit.scores.minimality, 1, name)
            XCTAssertEqual(r.circuit.scores.kl, 0, accuracy: 1e-6, name)
        }
    }

    func testACDCKeepsThePathThroughTheLiveHead() throws {
        let model = try oneHeadModel()
        let labels = try ownAnswers(model, clean)
        for (name, ablation) in ablations() {
            let r = try CircuitDiscovery.acdc(model, tokens: clean, labels: labels, ablation: ablation, tau: 1e-3)
            let kept = Set(r.circuit.links.map { "\($0.source.name) → \($0.target.name)" })
            XCTAssertTrue(kept.contains("a1.0 → unembed"), "\(name): \(kept)")
            XCTAssertTrue(r.circuit.links.contains { $0.target == .head(layer: 1, head: 0) }, "\(name): \(kept)")
            let silent = ["a0.0", "a0.1", "a1.1"]
            XCTAssertFalse(r.circuit.links.contains { silent.contains($0.source.name) || silent.contains($0.target.name) }, "\(name): \(kept)")
            XCTAssertEqual(r.circuit.components.map(\.name), ["embed", "a1.0", "unembed"], name)
            XCTAssertLessThan(r.circuit.scores.kl, 1e-3 * Double(r.edgeCount), name)
            XCTAssertGreaterThan(r.circuit.scores.faithfulness, 0.8, name)
            XCTAssertEqual(r.edgeCount, 29)
            XCTAssertTrue(r.tested.filter(\.kept).allSatisfy { $0.increase >= 1e-3 }, name)
        }
    }

    func testACDCWithHugeTauKeepsNothingAndWithZeroTauKeepsEveryUsedEdge() throws {
        let model = try oneHeadModel()
        let labels = try ownAnswers(model, clean)
        let none = try CircuitDiscovery.acdc(model, tokens: clean, labels: labels, ablation: .mean, tau: 1e9)
        XCTAssertTrue(none.circuit.links.isEmpty)
        XCTAssertEqual(none.circuit.scores.faithfulness, 0, accuracy: 1e-9)
        let all = try CircuitDiscovery.acdc(model, tokens: clean, labels: labels, ablation: .mean, tau: 0)
        XCTAssertEqual(all.circuit.scores.kl, 0, accuracy: 1e-6)
        XCTAssertEqual(all.circuit.scores.faithfulness, 1, accuracy: 1e-4)
    }

    func testEdgesNeedAModelWithoutLayerNorm() throws {
        let model = try oneHeadModel(norm: .layerNorm)
        let labels = try ownAnswers(model, clean)
        XCTAssertThrowsError(try CircuitDiscovery.acdc(model, tokens: clean, labels: labels, ablation: .mean)) { error in
            XCTAssertTrue("\(error)".contains("without LayerNorm"), "\(error)")
        }
        let r = try CircuitDiscovery.importance(model, tokens: clean, labels: labels, ablation: .mean)
        XCTAssertEqual(r.circuit.components.map(\.name), ["embed", "a1.0", "unembed"])
    }

    func testJSONAndDOTExport() throws {
        let model = try oneHeadModel(dMLP: 12)
        let labels = try ownAnswers(model, clean)
        let circuits = [
            try CircuitDiscovery.acdc(model, tokens: clean, labels: labels, ablation: .patch(corrupted: corrupted), tau: 1e-3).circuit,
            try CircuitDiscovery.importance(model, tokens: clean, labels: labels, ablation: .zero, threshold: 0.01).circuit,
        ]
        let directory = NSTemporaryDirectory() + "circuit-\(UInt32.random(in: 0...UInt32.max))"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        for (i, circuit) in circuits.enumerated() {
            try circuit.write(to: "\(directory)/c\(i).json")
            try circuit.write(to: "\(directory)/c\(i).dot")
            let data = try Data(contentsOf: URL(fileURLWithPath: "\(directory)/c\(i).json"))
            let object = try XCTUnwrap(try JSONSerialization.jsonObject(with: data) as? [String: Any])
            let components = try XCTUnwrap(object["components"] as? [[String: Any]])
            let edges = try XCTUnwrap(object["edges"] as? [[String: Any]])
            XCTAssertEqual(components.count, circuit.components.count)
            XCTAssertEqual(edges.count, circuit.links.count)
            for c in components { XCTAssertEqual(Set(c.keys).intersection(["name", "type", "layer", "importance"]).count, 4) }
            for e in edges { XCTAssertEqual(Set(e.keys).intersection(["source", "target", "weight"]).count, 3) }
            XCTAssertEqual(components.compactMap { $0["name"] as? String }, circuit.components.map(\.name))
            XCTAssertEqual(components.first?["type"] as? String, "embed")
            XCTAssertEqual((object["faithfulness"] as? NSNumber)?.doubleValue ?? .nan, circuit.scores.faithfulness, accuracy: 1e-9)

            let dot = try String(contentsOfFile: "\(directory)/c\(i).dot", encoding: .utf8)
            XCTAssertTrue(dot.hasPrefix("digraph circuit {"))
            XCTAssertTrue(dot.contains("rankdir=BT"))
            for c in circuit.components { XCTAssertTrue(dot.contains("\"\(c.name)\" [label="), c.name) }
            XCTAssertEqual(dot.components(separatedBy: " -> ").count - 1, circuit.links.count)
        }
        XCTAssertThrowsError(try circuits[0].write(to: "\(directory)/c.txt"))
    }
}
