import Foundation
import XCTest
import NeuroTestSupport
import NeuroEngine
import NeuroModels
@testable import NeuroAnalysis

/// The viewer's numbers: an embedding on its principal components and on
/// each frequency's cos/sin plane, read in a structure's basis.
final class EmbeddingProjectionTests: XCTestCase {
    /// Residue a at angle 2πk·a/p (additive) in the first two coordinates.
    func circle(p: Int, k: Int, order: [Int]) throws -> Tensor {
        var values = [Double](repeating: 0, count: p * 3)
        for (position, residue) in order.enumerated() {
            let angle = 2 * Double.pi * Double(k * position) / Double(order.count)
            values[residue * 3] = cos(angle)
            values[residue * 3 + 1] = sin(angle)
        }
        return try Tensor(float64: values, shape: [p, 3])
    }

    func testThePlaneOfAPerfectCircleIsThatCircle() throws {
        let (p, k) = (11, 3)
        let structure = try ModularStructure(.add, p: p)
        let w = try circle(p: p, k: k, order: Array(0..<p))
        let projection = try EmbeddingProjection(w, structure: structure, frequencies: [k, 1])
        XCTAssertEqual(projection.planes.map(\.frequency), [k, 1])
        let points = projection.planes[0].points
        XCTAssertEqual(points.count, p)
        let expected = try w.toDoubles()
        for (a, point) in points.enumerated() {
            XCTAssertEqual(point[0], expected[a * 3], accuracy: 1e-9)
            XCTAssertEqual(point[1], expected[a * 3 + 1], accuracy: 1e-9)
        }
        XCTAssertEqual(projection.pca.count, p)
        XCTAssertEqual(projection.pca.first?.count, 3)
        XCTAssertEqual(projection.ratios[0] + projection.ratios[1], 1, accuracy: 1e-9, "a flat circle is all in two components")
    }

    func testACircleInTheDiscreteLogIsFoundInThatBasis() throws {
        let (p, k) = (13, 5)
        let structure = try ModularStructure(.multiply, p: p)
        let w = try circle(p: p, k: k, order: structure.residues)
        let plane = try XCTUnwrap(EmbeddingProjection(w, structure: structure, frequencies: [k]).planes.first?.points)
        let expected = try w.toDoubles()
        for residue in structure.residues {
            XCTAssertEqual(plane[residue][0], expected[residue * 3], accuracy: 1e-9)
            XCTAssertEqual(plane[residue][1], expected[residue * 3 + 1], accuracy: 1e-9)
        }
        XCTAssertThrowsError(try EmbeddingProjection(Tensor(float64: [1, 2], shape: [2, 1]), structure: structure, frequencies: [])) { error in
            XCTAssertEqual("\(error)", "an embedding of 13 residues needs [13, d_model] rows, got [2, 1]")
        }
    }

    func testOfferedFrequenciesStartWithTheKeyOnes() throws {
        let analysis = try FourierAnalysis(model: handBuiltModel(p: 31, frequencies: [4, 11]), p: 31)
        XCTAssertEqual(analysis.key.frequencies, [4, 11])
        let offered = analysis.offeredFrequencies(count: 5)
        XCTAssertEqual(Array(offered.prefix(2)), [4, 11])
        XCTAssertEqual(offered.count, 5)
        XCTAssertEqual(Set(offered).count, 5)
        XCTAssertEqual(Array(offered.dropFirst(2)), Array(analysis.embedding.ranked.filter { ![4, 11].contains($0) }.prefix(3)))
    }
}
