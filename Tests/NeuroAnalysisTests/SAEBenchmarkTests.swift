import XCTest
import NeuroEngine
import NeuroModels
@testable import NeuroAnalysis

/// The synthetic benchmark: activations made of known sparse directions in
/// superposition; with default settings each architecture's decoder must
/// find at least 90 % of them (mean best cosine similarity ≥ 0.9).
final class SAEBenchmarkTests: XCTestCase {
    /// (features, dimensions, expected active per input)
    static let configurations: [(Int, Int, Double)] = [(32, 16, 3)]

    func recovery(_ kind: SAEKind, features: Int, dimensions: Int, active: Double, seed: UInt64 = 0) throws -> (Double, SAEMetrics) {
        let data = try KnownDirections(features: features, dimensions: dimensions, expectedActive: active, samples: 4096, seed: seed)
        let held = try KnownDirections(features: features, dimensions: dimensions, expectedActive: active, samples: 1024, seed: seed + 100,
                                         directions: data.directions)
        let config = SAEConfig(kind: kind, dIn: dimensions, dSAE: 2 * features, k: kind == .topk ? Int(active.rounded()) : nil, seed: seed)
        let sae = try SparseAutoencoder(config, fittedTo: data.activations)
        try sae.train(on: data.activations, schedule: .init(steps: 1000, batchSize: 512))
        let found = try SAEMetrics.recovery(of: data.directions, by: sae)
        let metrics = try SAEMetrics(sae, on: held.activations)
        return (found.reduce(0, +) / Double(found.count), metrics)
    }

    func assertRecovers(_ kind: SAEKind, file: StaticString = #filePath, line: UInt = #line) throws {
        for (features, dimensions, active) in Self.configurations {
            let (mean, m) = try recovery(kind, features: features, dimensions: dimensions, active: active)
            print("SAE \(kind) \(features)x\(dimensions) L0 \(active): recovery \(mean) · L0 \(m.l0) EV \(m.explainedVariance) dead \(m.deadFeatures)")
            XCTAssertGreaterThanOrEqual(mean, 0.9, "\(kind) on \(features) features in \(dimensions) dimensions", file: file, line: line)
            // Sparse, not dense: well under half the latents per input.
            XCTAssertLessThan(m.l0, Double(2 * features) / 4, "\(kind): L0 \(m.l0)", file: file, line: line)
            XCTAssertGreaterThan(m.explainedVariance, 0.7, "\(kind)", file: file, line: line)
        }
    }

    func testStandardRecoversTheKnownDirections() throws { try assertRecovers(.standard) }
    func testGatedRecoversTheKnownDirections() throws { try assertRecovers(.gated) }
    func testTopKRecoversTheKnownDirections() throws { try assertRecovers(.topk) }
    func testJumpReLURecoversTheKnownDirections() throws { try assertRecovers(.jumprelu) }
}
