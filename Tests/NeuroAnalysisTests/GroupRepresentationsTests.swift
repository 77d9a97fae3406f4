import XCTest
import NeuroEngine
import NeuroModels
@testable import NeuroAnalysis

final class GroupRepresentationsTests: XCTestCase {
    /// The groups every property is checked on, made from their datasets' tasks.
    let tasks: [DatasetTask] = [.symmetricGroup(n: 3), .symmetricGroup(n: 4), .symmetricGroup(n: 5),
                                .cyclicGroup(n: 5), .cyclicGroup(n: 7), .cyclicGroup(n: 6),
                                .dihedralGroup(n: 4), .dihedralGroup(n: 5)]

    func testHomomorphismOnEveryPairMatchesTheDatasetLabels() throws {
        for task in tasks {
            let group = try FiniteGroup(task: task)
            let data: Dataset
            switch task {
            case let .symmetricGroup(n): data = try Dataset.symmetricGroup(n: n, trainFraction: 0.5, seed: 0)
            case let .cyclicGroup(n): data = try Dataset.cyclicGroup(n: n, trainFraction: 0.5, seed: 0)
            case let .dihedralGroup(n): data = try Dataset.dihedralGroup(n: n, trainFraction: 0.5, seed: 0)
            default: return XCTFail("unexpected task")
            }
            let labels = data.labels.toInts(), a = data.fieldValues[0], b = data.fieldValues[1]
            for rep in group.representations {
                let d = rep.dimension
                var worst = 0.0
                for row in 0..<data.count {
                    let product = FiniteGroup.multiply(rep.matrix(a[row]), rep.matrix(b[row]), d)
                    worst = max(worst, zip(product, rep.matrix(labels[row])).map { abs($0 - $1) }.max() ?? 0)
                }
                XCTAssertLessThan(worst, 1e-9, "\(group.name) \(rep.name): ρ(a)ρ(b) ≠ ρ(a∘b)")
            }
        }
    }

    func testMatricesAreOrthogonal() throws {
        for task in tasks {
            let group = try FiniteGroup(task: task)
            for rep in group.representations {
                let d = rep.dimension
                for m in rep.matrices {
                    let transpose = (0..<(d * d)).map { m[($0 % d) * d + $0 / d] }
                    let product = FiniteGroup.multiply(m, transpose, d)
                    for i in 0..<d { for j in 0..<d { XCTAssertEqual(product[i * d + j], i == j ? 1 : 0, accuracy: 1e-9) } }
                }
            }
        }
    }

    func testCharactersAreOrthonormalAndDimensionsAddUp() throws {
        for task in tasks {
            let group = try FiniteGroup(task: task)
            let order = Double(group.order)
            let reps = group.representations
            for (i, r) in reps.enumerated() {
                for (j, s) in reps.enumerated() {
                    let inner = zip(r.characters, s.characters).map(*).reduce(0, +) / order
                    XCTAssertEqual(inner, i == j ? r.characterNorm : 0, accuracy: 1e-9, "\(group.name) ⟨χ_\(r.name), χ_\(s.name)⟩")
                }
            }
            // A real rotation of C_n is two complex characters of dimension 1, so Σ (complex dim)² = |G|:
            // dim²/⟨χ,χ⟩ counts it as 2² / 2 = 2.
            let sum = reps.map { Double($0.dimension * $0.dimension) / $0.characterNorm }.reduce(0, +)
            XCTAssertEqual(sum, order, accuracy: 1e-9, group.name)
        }
    }

    func testSymmetricGroupNamesDimensionsAndKnownCharacters() throws {
        let s4 = try FiniteGroup.symmetric(n: 4)
        XCTAssertEqual(s4.representations.map(\.name), ["[4]", "[3,1]", "[2,2]", "[2,1,1]", "[1,1,1,1]"])
        XCTAssertEqual(s4.representations.map(\.dimension), [1, 3, 2, 3, 1])
        XCTAssertEqual(s4.representations.map(\.about), ["trivial", "standard", "self-conjugate", "standard ⊗ sign", "sign"])
        // Element 1 is the transposition (2 3) in 0-based images [0, 1, 3, 2]: the sign is −1, the
        // standard character is (fixed points − 1) = 1.
        XCTAssertEqual(try Dataset.permutation(index: 1, n: 4), [0, 1, 3, 2])
        XCTAssertEqual(s4.representations[4].characters[1], -1, accuracy: 1e-12)
        XCTAssertEqual(s4.representations[1].characters[1], 1, accuracy: 1e-12)
        // The standard character is fixed points − 1 on every element.
        for g in 0..<24 {
            let images = try Dataset.permutation(index: g, n: 4)
            let fixed = images.enumerated().filter { $0.offset == $0.element }.count
            XCTAssertEqual(s4.representations[1].characters[g], Double(fixed - 1), accuracy: 1e-9)
        }
        let s5 = try FiniteGroup.symmetric(n: 5)
        XCTAssertEqual(s5.representations.map(\.name), ["[5]", "[4,1]", "[3,2]", "[3,1,1]", "[2,2,1]", "[2,1,1,1]", "[1,1,1,1,1]"])
        XCTAssertEqual(s5.representations.map(\.dimension), [1, 4, 5, 6, 5, 4, 1])
    }

    func testCyclicAndDihedralRepresentations() throws {
        let c7 = try FiniteGroup.cyclic(n: 7)
        XCTAssertEqual(c7.representations.map(\.name), ["trivial", "k=1", "k=2", "k=3"])
        XCTAssertEqual(c7.representations[2].characters[3], 2 * cos(2 * .pi * 6 / 7), accuracy: 1e-12)
        XCTAssertEqual(try FiniteGroup.cyclic(n: 6).representations.map(\.name), ["trivial", "k=1", "k=2", "sign"])
        XCTAssertEqual(try FiniteGroup(task: .modular(.add, p: 5)).name, "C_5")
        let d4 = try FiniteGroup.dihedral(n: 4)
        XCTAssertEqual(d4.representations.map(\.name), ["trivial", "sign", "rotation sign", "both signs", "2d j=1"])
        let d5 = try FiniteGroup.dihedral(n: 5)
        XCTAssertEqual(d5.representations.map(\.name), ["trivial", "sign", "2d j=1", "2d j=2"])
        // s ∘ r = r⁻¹ ∘ s: element n (s) composed with element 1 (r) is r^(−1) s = index (n−1) + n.
        XCTAssertEqual(d5.table[5][1], 4 + 5)
        XCTAssertEqual(d5.inverses[1], 4)
        XCTAssertEqual(d5.inverses[7], 7)
    }

    func testBadGroupsAreRefused() {
        XCTAssertThrowsError(try FiniteGroup.symmetric(n: 6)) { error in
            XCTAssertEqual("\(error)".contains("explicit representations are built only up to S_5"), true, "\(error)")
        }
        XCTAssertThrowsError(try FiniteGroup(task: .modular(.multiply, p: 7))) { error in
            XCTAssertEqual("\(error)".contains("a*b mod 7 is not one"), true, "\(error)")
        }
        XCTAssertThrowsError(try Dataset.dihedralGroup(n: 2, trainFraction: 0.5, seed: 0))
        XCTAssertThrowsError(try Dataset.cyclicGroup(n: 1, trainFraction: 0.5, seed: 0))
    }
}
