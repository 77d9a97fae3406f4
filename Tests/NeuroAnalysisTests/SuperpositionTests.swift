import XCTest
import Foundation
import NeuroEngine
import NeuroTestSupport
@testable import NeuroAnalysis

/// Norms, superposition and dimensionality of a toy model's features,
/// against sums worked out by hand.
final class SuperpositionTests: XCTestCase {
    func testAGivenWAgainstAHandComputation() throws {
        // Columns W₀ = (1, 0), W₁ = (0, 2), W₂ = (1, 1), W₃ = 0.
        let w = try Tensor([1, 0, 1, 0,
                            0, 2, 1, 0], shape: [2, 4])
        let g = try SuperpositionGeometry(weights: w)
        assertClose(g.norms, [1, 2, 2.0.squareRoot(), 0])
        // WᵀW rows: [1, 0, 1, 0], [0, 4, 2, 0], [1, 2, 2, 0], [0, 0, 0, 0].
        assertClose(g.gram.toDoubles(), [1, 0, 1, 0, 0, 4, 2, 0, 1, 2, 2, 0, 0, 0, 0, 0])
        // Σⱼ≠ᵢ (Wᵢ·Wⱼ)² / ‖Wᵢ‖²: (0 + 1) / 1, (0 + 4) / 4, (1 + 4) / 2; W₃ is not represented: 0.
        assertClose(g.superposition, [1, 1, 2.5, 0])
        // Dᵢ = ‖Wᵢ‖² / (‖Wᵢ‖² + superposition): 1/2, 4/5, 2/4.5; 0 for W₃.
        assertClose(g.dimensionality, [0.5, 0.8, 2 / 4.5, 0])
        // d_hidden / ‖W‖_F² = 2 / (1 + 4 + 2).
        XCTAssertEqual(g.dimensionsPerFeature, 2.0 / 7, accuracy: 1e-12)
    }

    func testTheGeometriesOfThePaper() throws {
        // Orthogonal features take a dimension each, an antipodal pair half each, a regular pentagon 2/5 each.
        let orthogonal = try SuperpositionGeometry(weights: Tensor.eye(3))
        assertClose(orthogonal.dimensionality, [1, 1, 1])
        assertClose(orthogonal.superposition, [0, 0, 0])
        let pair = try SuperpositionGeometry(weights: Tensor([1, -1], shape: [1, 2]))
        assertClose(pair.dimensionality, [0.5, 0.5])
        let angles = (0..<5).map { 2 * Double.pi * Double($0) / 5 }
        let pentagon = try SuperpositionGeometry(weights: Tensor(float64: angles.map(cos) + angles.map(sin), shape: [2, 5]))
        assertClose(pentagon.dimensionality, Array(repeating: 0.4, count: 5), atol: 1e-12)
        // Σⱼ≠ᵢ cos² of 72°, 144°, 216°, 288° = 2·(cos² 72° + cos² 144°) = 1.5.
        assertClose(pentagon.superposition, Array(repeating: 1.5, count: 5), atol: 1e-12)
        XCTAssertEqual(pentagon.dimensionsPerFeature, 0.4, accuracy: 1e-12)
        XCTAssertEqual(pentagon.dimensionality.reduce(0, +), 2, accuracy: 1e-12, "the dimensionalities fill d_hidden")
    }

    func testScaleLeavesDimensionalityAlone() throws {
        let w = try Tensor([0.3, -1.2, 0.7, 2.0, 0.1, -0.4], shape: [2, 3])
        let a = try SuperpositionGeometry(weights: w), b = try SuperpositionGeometry(weights: w * Tensor(scalar: 3))
        assertClose(b.dimensionality, a.dimensionality, rtol: 1e-9)
        assertClose(b.superposition, a.superposition.map { $0 * 9 }, rtol: 1e-9)
        assertClose(b.norms, a.norms.map { $0 * 3 }, rtol: 1e-9)
    }

    func testBadWeightsAreRefused() throws {
        assertThrows("W must be a non-empty matrix [d_hidden, n_features], got [3]") {
            try SuperpositionGeometry(weights: Tensor([1, 2, 3], shape: [3]))
        }
        assertThrows("got [2, 0]") { try SuperpositionGeometry(weights: Tensor.zeros([2, 0])) }
        assertThrows("W holds NaN or infinite values") { try SuperpositionGeometry(weights: Tensor([1, .nan], shape: [1, 2])) }
    }
}
