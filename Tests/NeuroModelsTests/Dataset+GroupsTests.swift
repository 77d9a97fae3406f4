import XCTest
import NeuroEngine
@testable import NeuroModels

final class DatasetGroupsTests: XCTestCase {
    func testCyclicGroupIsModularAdditionAsAGroupTask() throws {
        let c7 = try Dataset.cyclicGroup(n: 7, trainFraction: 0.5, seed: 0)
        let add = try Dataset.modular(.add, p: 7, trainFraction: 0.5, seed: 0)
        XCTAssertEqual(c7.task, .cyclicGroup(n: 7))
        XCTAssertEqual(c7.task.description, "C_7 composition")
        XCTAssertEqual(c7.labels.toInts(), add.labels.toInts())
        XCTAssertEqual(c7.tokens.toInts(), add.tokens.toInts())
        XCTAssertEqual([c7.dVocab, c7.dVocabOut, c7.modulus, c7.equalsToken], [8, 7, 7, 7])
        XCTAssertEqual(try c7.labels(fields: [[3], [6]]).toInts(), [2])
    }

    func testDihedralGroupComposesMapsOfThePolygon() throws {
        let n = 5
        let d5 = try Dataset.dihedralGroup(n: n, trainFraction: 0.5, seed: 0)
        XCTAssertEqual(d5.gridShape, [10, 10])
        XCTAssertEqual([d5.dVocab, d5.dVocabOut, d5.modulus], [11, 10, 10])
        // Element k + n·f is the map v ↦ k + (−1)^f v; the label of (a, b) is the map a(b(v)).
        func map(_ x: Int) -> [Int] { (0..<n).map { v in ((x % n + (x / n == 0 ? v : -v)) % n + n) % n } }
        let table = d5.groupTable
        for a in 0..<(2 * n) {
            for b in 0..<(2 * n) {
                let composed = map(b).map { map(a)[$0] }
                XCTAssertEqual(map(table[a][b]), composed, "\(a) ∘ \(b)")
                XCTAssertEqual(d5.labels.toInts()[a * 2 * n + b], table[a][b])
            }
        }
        // s r s = r⁻¹, and 0 is the identity.
        XCTAssertEqual(table[table[n][1]][n], n - 1)
        XCTAssertEqual(table[0], Array(0..<(2 * n)))
    }

    func testGroupTasksRoundTripThroughTheRunFile() throws {
        for data in [try Dataset.cyclicGroup(n: 6, trainFraction: 0.4, seed: 2), try Dataset.dihedralGroup(n: 4, trainFraction: 0.4, seed: 2)] {
            let text = Trainer.encode(data.task)
            let back = try Trainer.decodeDataset(text, fraction: 0.4, seed: 2)
            XCTAssertEqual(back.task, data.task)
            XCTAssertEqual(back.trainIndices, data.trainIndices)
        }
        XCTAssertEqual(Trainer.encode(.dihedralGroup(n: 4)), "dihedral_group:4")
    }

    func testSizesOutsideTheRangeAreRefused() {
        XCTAssertThrowsError(try Dataset.cyclicGroup(n: 201, trainFraction: 0.5, seed: 0)) { error in
            XCTAssertTrue("\(error)".contains("n = 201 is outside 2...200"), "\(error)")
        }
        XCTAssertThrowsError(try Dataset.dihedralGroup(n: 2, trainFraction: 0.5, seed: 0)) { error in
            XCTAssertTrue("\(error)".contains("n = 2 is outside 3...100"), "\(error)")
        }
        XCTAssertThrowsError(try Dataset.cyclicGroup(n: 5, trainFraction: 1.5, seed: 0))
    }
}
