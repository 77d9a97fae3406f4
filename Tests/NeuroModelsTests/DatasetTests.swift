import XCTest
import NeuroTestSupport
import NeuroEngine
@testable import NeuroModels

final class DatasetTests: XCTestCase {

    // MARK: - Helpers

    private func assertThrowsMessage<T>(_ expression: @autoclosure () throws -> T, _ message: String,
                                        file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try expression(), file: file, line: line) { error in
            guard let engineError = error as? EngineError else {
                return XCTFail("expected EngineError, got \(error)", file: file, line: line)
            }
            XCTAssertEqual(engineError.kind, .argument, file: file, line: line)
            XCTAssertEqual(engineError.message, message, file: file, line: line)
        }
    }

    /// The label at grid position (a, b) for a [p, p] grid.
    private func label(_ ds: Dataset, _ a: Int, _ b: Int) -> Int {
        ds.labels.toInts()[a * ds.gridShape[1] + b]
    }

    // MARK: - Grid order and shapes

    func testGridOrderAndShapesP5() throws {
        let ds = try Dataset.modular(.add, p: 5, trainFraction: 0.3, seed: 0)
        XCTAssertEqual(ds.count, 25)
        XCTAssertEqual(ds.tokens.shape, [25, 3])
        XCTAssertEqual(ds.tokens.dtype, .int64)
        XCTAssertEqual(ds.labels.shape, [25])
        XCTAssertEqual(ds.labels.dtype, .int64)
        XCTAssertEqual(ds.gridShape, [5, 5])
        XCTAssertEqual(ds.fieldNames, ["a", "b"])
        XCTAssertEqual(ds.fieldDomains, [Array(0..<5), Array(0..<5)])
        XCTAssertEqual(ds.dVocab, 6)
        XCTAssertEqual(ds.dVocabOut, 5)
        XCTAssertEqual(ds.nCtx, 3)
        XCTAssertEqual(ds.equalsToken, 5)
        XCTAssertEqual(ds.modulus, 5)
        XCTAssertTrue(ds.isModular)
        let tokens = ds.tokens.toInts()
        let labels = ds.labels.toInts()
        for i in 0..<25 {
            XCTAssertEqual(Array(tokens[(3 * i)..<(3 * i + 3)]), [i / 5, i % 5, 5], "row \(i)")
            XCTAssertEqual(ds.fieldValues[0][i], i / 5)
            XCTAssertEqual(ds.fieldValues[1][i], i % 5)
            XCTAssertEqual(labels[i], (i / 5 + i % 5) % 5)
        }
        // Reshapes to [p, p]: row a, column b.
        let grid = try ds.labels.reshaped([5, 5])
        XCTAssertEqual(try grid.select(axis: 0, index: 3).toInts(), [3, 4, 0, 1, 2])
        XCTAssertEqual(ds.train.count, 7)   // floor(25 · 0.3)
        XCTAssertEqual(ds.test.count, 18)
    }

    func testGridShapesP113() throws {
        let ds = try Dataset.modular(.add, p: 113, trainFraction: 0.3, seed: 598)
        XCTAssertEqual(ds.count, 12769)
        XCTAssertEqual(ds.tokens.shape, [12769, 3])
        XCTAssertEqual(ds.labels.shape, [12769])
        XCTAssertEqual(ds.trainIndices.count, 3830)
        XCTAssertEqual(ds.testIndices.count, 8939)
        XCTAssertEqual(ds.train.count, 3830)
        XCTAssertEqual(ds.test.count, 8939)
        XCTAssertEqual(ds.train.tokens.shape, [3830, 3])
        XCTAssertEqual(ds.train.labels.shape, [3830])
        XCTAssertEqual(ds.test.tokens.shape, [8939, 3])
        XCTAssertEqual(ds.test.labels.shape, [8939])
        XCTAssertEqual(ds.all.count, 12769)
        XCTAssertEqual(ds.all.indices, Array(0..<12769))
        XCTAssertEqual(ds.train.name, "train")
        XCTAssertEqual(ds.test.name, "test")
        XCTAssertEqual(ds.all.name, "all")
        XCTAssertEqual(ds.dVocab, 114)
        XCTAssertEqual(ds.dVocabOut, 113)
        XCTAssertEqual(ds.equalsToken, 113)
        XCTAssertEqual(ds.task, .modular(.add, p: 113))
        XCTAssertEqual(ds.task.description, "a+b mod 113")
        let tokens = ds.tokens.toInts()
        XCTAssertEqual(Array(tokens[(3 * 114)..<(3 * 115)]), [1, 1, 113])
        XCTAssertEqual(Array(tokens[(3 * 12768)...]), [112, 112, 113])
        XCTAssertEqual(label(ds, 100, 50), 37)
        XCTAssertEqual(label(ds, 112, 112), 111)
    }

    func testSplitTensorsMatchIndices() throws {
        let ds = try Dataset.modular(.multiply, p: 31, trainFraction: 0.4, seed: 7)
        let allTokens = ds.tokens.toInts()
        let allLabels = ds.labels.toInts()
        for split in [ds.train, ds.test] {
            let tokens = split.tokens.toInts()
            let labels = split.labels.toInts()
            for (k, i) in split.indices.enumerated() {
                XCTAssertEqual(Array(tokens[(3 * k)..<(3 * k + 3)]), Array(allTokens[(3 * i)..<(3 * i + 3)]))
                XCTAssertEqual(labels[k], allLabels[i])
            }
        }
        XCTAssertEqual(ds.train.indices, ds.trainIndices)
        XCTAssertEqual(ds.test.indices, ds.testIndices)
    }

    // MARK: - Labels

    func testLabelsForEachOperation() throws {
        let p = 7
        func at(_ op: ModularOperation, _ a: Int, _ b: Int) throws -> Int {
            let ds = try Dataset.modular(op, p: p, trainFraction: 0.5, seed: 1)
            let row = zip(ds.fieldValues[0], ds.fieldValues[1]).enumerated().first { $0.element == (a, b) }
            guard let index = row?.offset else {
                XCTFail("(\(a), \(b)) not in the \(op) grid")
                return -1
            }
            return ds.labels.toInts()[index]
        }
        XCTAssertEqual(try at(.add, 5, 4), 2)
        XCTAssertEqual(try at(.add, 0, 0), 0)
        XCTAssertEqual(try at(.subtract, 2, 5), 4)           // -3 ≡ 4
        XCTAssertEqual(try at(.subtract, 5, 2), 3)
        XCTAssertEqual(try at(.multiply, 3, 5), 1)           // 15 ≡ 1
        XCTAssertEqual(try at(.multiply, 6, 6), 1)           // 36 ≡ 1
        XCTAssertEqual(try at(.divide, 3, 2), 5)             // 2 · 5 = 10 ≡ 3
        XCTAssertEqual(try at(.divide, 1, 3), 5)             // 3 · 5 = 15 ≡ 1
        XCTAssertEqual(try at(.divide, 0, 4), 0)
        XCTAssertEqual(try at(.sumOfSquares, 2, 3), 6)       // 4 + 9 = 13 ≡ 6
        XCTAssertEqual(try at(.sumOfSquares, 6, 6), 2)       // 72 ≡ 2
        XCTAssertEqual(try at(.cubePlusProduct, 2, 3), 0)    // 8 + 6 = 14 ≡ 0
        XCTAssertEqual(try at(.cubePlusProduct, 3, 1), 2)    // 27 + 3 = 30 ≡ 2
        XCTAssertEqual(try at(.cubePlusProduct, 6, 5), 1)    // 216 + 30 = 246 = 35·7 + 1
    }

    func testEveryOperationMatchesBruteForce() throws {
        let p = 11
        let reference: [ModularOperation: (Int, Int) -> Int] = [
            .add: { $0 + $1 }, .subtract: { $0 - $1 }, .multiply: { $0 * $1 },
            .sumOfSquares: { $0 * $0 + $1 * $1 }, .cubePlusProduct: { $0 * $0 * $0 + $0 * $1 },
        ]
        for op in ModularOperation.allCases {
            let ds = try Dataset.modular(op, p: p, trainFraction: 0.3, seed: 2)
            let labels = ds.labels.toInts()
            for i in 0..<ds.count {
                let a = ds.fieldValues[0][i], b = ds.fieldValues[1][i]
                if op == .divide {
                    XCTAssertEqual((labels[i] * b) % p, a, "\(a) / \(b)")
                } else if let f = reference[op] {
                    XCTAssertEqual(labels[i], ((f(a, b) % p) + p) % p, "\(op) \(a) \(b)")
                }
            }
            XCTAssertEqual(try ds.labels(fields: ds.fieldValues).toInts(), labels, "\(op)")
        }
    }

    func testLargeModulusHasNoOverflow() {
        // At p = 9973 (the apply arithmetic is exact well past maxModulus), b = a = p - 1 ≡ -1.
        let p = 9973, m = p - 1
        XCTAssertEqual(ModularOperation.cubePlusProduct.apply(m, m, p: p), 0)   // (-1)³ + (-1)(-1) = 0
        XCTAssertEqual(ModularOperation.sumOfSquares.apply(m, m, p: p), 2)      // 1 + 1
        XCTAssertEqual(ModularOperation.divide.apply(m, m, p: p), 1)            // (-1)/(-1)
        XCTAssertEqual(ModularOperation.multiply.apply(m, m, p: p), 1)
        XCTAssertEqual(ModularOperation.subtract.apply(0, m, p: p), 1)
        XCTAssertEqual(ModularOperation.divide.apply(1, 2, p: p), (p + 1) / 2)  // 2⁻¹
    }

    func testDivisionGridExcludesZero() throws {
        let ds = try Dataset.modular(.divide, p: 7, trainFraction: 0.5, seed: 0)
        XCTAssertEqual(ds.gridShape, [7, 6])
        XCTAssertEqual(ds.count, 42)
        XCTAssertEqual(ds.fieldDomains, [Array(0..<7), Array(1..<7)])
        XCTAssertFalse(ds.fieldValues[1].contains(0))
        for i in 0..<ds.count {
            XCTAssertEqual(ds.fieldValues[0][i], i / 6)
            XCTAssertEqual(ds.fieldValues[1][i], 1 + i % 6)
        }
        XCTAssertEqual(ds.labels.toInts()[3 * 6 + (2 - 1)], 5)   // 3 / 2 mod 7
        XCTAssertEqual(ds.dVocab, 8)
        XCTAssertEqual(ds.dVocabOut, 7)
        XCTAssertEqual(ds.train.count, 21)
        XCTAssertEqual(try ds.labels.reshaped(ds.gridShape).shape, [7, 6])
        XCTAssertEqual(ds.task.description, "a/b mod 7")
        assertThrowsMessage(try ds.labels(fields: [[3], [14]]),
                            "labels(fields:): b = 14 at position 0 is 0 mod 7; division by zero is undefined")
        // b ≡ 0 is still a valid token.
        XCTAssertEqual(try ds.tokens(fields: [[3], [7]]).toInts(), [3, 0, 7])
    }

    func testAdditionTask() throws {
        let ds = try Dataset.addition(p: 13, trainFraction: 0.3, seed: 0)
        XCTAssertEqual(ds.dVocabOut, 25)   // 2p - 1
        XCTAssertEqual(ds.dVocab, 14)
        XCTAssertEqual(ds.equalsToken, 13)
        XCTAssertEqual(ds.modulus, 13)
        XCTAssertEqual(ds.gridShape, [13, 13])
        XCTAssertFalse(ds.isModular)
        XCTAssertEqual(ds.task, .addition(p: 13))
        let labels = ds.labels.toInts()
        XCTAssertEqual(labels.min(), 0)
        XCTAssertEqual(labels.max(), 24)
        XCTAssertEqual(label(ds, 12, 12), 24)
        XCTAssertEqual(label(ds, 7, 9), 16)
        XCTAssertEqual(try ds.labels(fields: [[12, 13], [5, 1]]).toInts(), [17, 1])
    }

    // MARK: - Split

    func testSplitDeterminism() throws {
        let a = try Dataset.modular(.add, p: 23, trainFraction: 0.3, seed: 42)
        let b = try Dataset.modular(.add, p: 23, trainFraction: 0.3, seed: 42)
        let c = try Dataset.modular(.add, p: 23, trainFraction: 0.3, seed: 43)
        XCTAssertEqual(a.trainIndices, b.trainIndices)
        XCTAssertEqual(a.testIndices, b.testIndices)
        XCTAssertEqual(a.train.tokens.toInts(), b.train.tokens.toInts())
        XCTAssertNotEqual(a.trainIndices, c.trainIndices)
        XCTAssertNotEqual(Set(a.trainIndices), Set(c.trainIndices))
        // Same as the generator's permutation, kept in permutation order (not sorted).
        var generator = RandomGenerator(seed: 42)
        let order = generator.permutation(529)
        XCTAssertEqual(a.trainIndices, Array(order[0..<158]))   // floor(529 · 0.3) = 158
        XCTAssertEqual(a.testIndices, Array(order[158...]))
        XCTAssertNotEqual(a.trainIndices, a.trainIndices.sorted())
    }

    func testSplitPartitionsTheGrid() throws {
        for ds in [try Dataset.modular(.add, p: 113, trainFraction: 0.3, seed: 598),
                   try Dataset.modular(.divide, p: 13, trainFraction: 0.5, seed: 3),
                   try Dataset.symmetricGroup(n: 4, trainFraction: 0.4, seed: 1)] {
            let train = Set(ds.trainIndices), test = Set(ds.testIndices)
            XCTAssertEqual(train.count, ds.trainIndices.count, "no duplicates in train")
            XCTAssertEqual(test.count, ds.testIndices.count, "no duplicates in test")
            XCTAssertTrue(train.isDisjoint(with: test))
            XCTAssertEqual(train.union(test), Set(0..<ds.count))
        }
    }

    // MARK: - tokens(fields:) and labels(fields:)

    func testCorruptedTokens() throws {
        let p = 11
        let ds = try Dataset.modular(.add, p: p, trainFraction: 0.3, seed: 0)
        let shifted = ds.fieldValues[0].map { $0 + 1 }
        let tokens = try ds.tokens(fields: [shifted, ds.fieldValues[1]])
        XCTAssertEqual(tokens.shape, [p * p, 3])
        XCTAssertEqual(tokens.dtype, .int64)
        let values = tokens.toInts()
        for i in 0..<ds.count {
            XCTAssertEqual(Array(values[(3 * i)..<(3 * i + 3)]), [(i / p + 1) % p, i % p, p])
        }
        let labels = try ds.labels(fields: [shifted, ds.fieldValues[1]]).toInts()
        for i in 0..<ds.count {
            XCTAssertEqual(labels[i], (i / p + 1 + i % p) % p)
        }
        // Identity: the dataset's own fields reproduce its tokens and labels.
        XCTAssertEqual(try ds.tokens(fields: ds.fieldValues).toInts(), ds.tokens.toInts())
        XCTAssertEqual(try ds.labels(fields: ds.fieldValues).toInts(), ds.labels.toInts())
        // Negative values are reduced into 0..<p.
        XCTAssertEqual(try ds.tokens(fields: [[-1], [23]]).toInts(), [10, 1, 11])
        XCTAssertEqual(try ds.tokens(fields: [[], []]).shape, [0, 3])
    }

    func testFieldsErrors() throws {
        let ds = try Dataset.modular(.add, p: 5, trainFraction: 0.3, seed: 0)
        assertThrowsMessage(try ds.tokens(fields: [[1, 2]]),
                            "tokens(fields:): got 1 fields, expected 2 (a, b)")
        assertThrowsMessage(try ds.tokens(fields: [[1, 2], [3]]),
                            "tokens(fields:): field a has 2 values but field b has 1")
        assertThrowsMessage(try ds.labels(fields: [[1], [2], [3]]),
                            "labels(fields:): got 3 fields, expected 2 (a, b)")
    }

    // MARK: - Symmetric group

    func testPermutationIndexing() throws {
        XCTAssertEqual(try Dataset.permutation(index: 0, n: 3), [0, 1, 2])
        let all = try (0..<6).map { try Dataset.permutation(index: $0, n: 3) }
        XCTAssertEqual(all, [[0, 1, 2], [0, 2, 1], [1, 0, 2], [1, 2, 0], [2, 0, 1], [2, 1, 0]])
        XCTAssertEqual(all, all.sorted { $0.lexicographicallyPrecedes($1) })
        for n in 1...5 {
            for index in 0..<factorial(n) {
                XCTAssertEqual(try Dataset.permutationIndex(Dataset.permutation(index: index, n: n)), index)
            }
        }
        XCTAssertEqual(try Dataset.permutation(index: 119, n: 5), [4, 3, 2, 1, 0])
        assertThrowsMessage(try Dataset.permutation(index: 6, n: 3),
                            "permutation(index:n:): index 6 is outside 0..<6 for S_3")
        assertThrowsMessage(try Dataset.permutationIndex([0, 0, 1]),
                            "permutationIndex: [0, 0, 1] is not a permutation of 0..<3")
    }

    func testCompositionConvention() throws {
        // (a ∘ b)(i) = a(b(i)).
        let table = try Dataset.compositionTable(n: 4)
        for a in 0..<24 {
            for b in 0..<24 {
                let pa = try Dataset.permutation(index: a, n: 4)
                let pb = try Dataset.permutation(index: b, n: 4)
                let composed = try Dataset.permutation(index: table[a][b], n: 4)
                XCTAssertEqual(composed, (0..<4).map { pa[pb[$0]] })
            }
        }
    }

    func testGroupAxioms() throws {
        for n in [3, 4] {
            let table = try Dataset.compositionTable(n: n)
            let order = factorial(n)
            XCTAssertEqual(table.count, order)
            for a in 0..<order {
                // Identity (index 0) on both sides.
                XCTAssertEqual(table[0][a], a)
                XCTAssertEqual(table[a][0], a)
                // Each row and column is a permutation of the group (Latin square).
                XCTAssertEqual(Set(table[a]), Set(0..<order))
                XCTAssertEqual(Set(table.map { $0[a] }), Set(0..<order))
                // Inverses: exactly one b with a ∘ b = e, and then b ∘ a = e too.
                let inverses = (0..<order).filter { table[a][$0] == 0 }
                XCTAssertEqual(inverses.count, 1)
                if let b = inverses.first { XCTAssertEqual(table[b][a], 0) }
            }
            // Associativity.
            for a in 0..<order {
                for b in 0..<order {
                    for c in 0..<order {
                        XCTAssertEqual(table[table[a][b]][c], table[a][table[b][c]])
                    }
                }
            }
        }
    }

    func testS3Dataset() throws {
        let ds = try Dataset.symmetricGroup(n: 3, trainFraction: 0.5, seed: 0)
        XCTAssertEqual(ds.modulus, 6)
        XCTAssertEqual(ds.count, 36)
        XCTAssertEqual(ds.gridShape, [6, 6])
        XCTAssertEqual(ds.dVocab, 7)
        XCTAssertEqual(ds.dVocabOut, 6)
        XCTAssertEqual(ds.equalsToken, 6)
        XCTAssertEqual(Set(ds.labels.toInts()), Set(0..<6))
        XCTAssertFalse(ds.isModular)
        XCTAssertEqual(ds.task.description, "S_3 composition")
        let tokens = ds.tokens.toInts()
        for i in 0..<36 {
            XCTAssertEqual(Array(tokens[(3 * i)..<(3 * i + 3)]), [i / 6, i % 6, 6])
        }
        // Non-abelian: (0 2 1) ∘ (1 0 2) = (2 0 1) but (1 0 2) ∘ (0 2 1) = (1 2 0).
        XCTAssertEqual(label(ds, 1, 2), 4)
        XCTAssertEqual(label(ds, 2, 1), 3)
        let table = try Dataset.compositionTable(n: 3)
        XCTAssertEqual(ds.labels.toInts(), table.flatMap { $0 })
        // a → a + 1 mod 6 corruption.
        XCTAssertEqual(try ds.labels(fields: [[5], [1]]).toInts(), [table[5][1]])
        XCTAssertEqual(try ds.labels(fields: [[6 + 1], [2]]).toInts(), [4])
    }

    func testS5Shapes() throws {
        let ds = try Dataset.symmetricGroup(n: 5, trainFraction: 0.4, seed: 0)
        XCTAssertEqual(ds.count, 14400)
        XCTAssertEqual(ds.tokens.shape, [14400, 3])
        XCTAssertEqual(ds.dVocab, 121)
        XCTAssertEqual(ds.dVocabOut, 120)
        XCTAssertEqual(ds.train.count, 5760)
    }

    // MARK: - Errors

    func testErrorMessages() {
        assertThrowsMessage(try Dataset.modular(.add, p: 1, trainFraction: 0.3, seed: 0),
                            "p = 1 is outside 2...1000")
        assertThrowsMessage(try Dataset.modular(.multiply, p: 1_001, trainFraction: 0.3, seed: 0),
                            "p = 1001 is outside 2...1000")
        assertThrowsMessage(try Dataset.addition(p: -3, trainFraction: 0.3, seed: 0),
                            "p = -3 is outside 2...1000")
        assertThrowsMessage(try Dataset.modular(.add, p: 113, trainFraction: 1.5, seed: 0),
                            "train fraction 1.5 is outside (0, 1)")
        assertThrowsMessage(try Dataset.modular(.add, p: 113, trainFraction: 0, seed: 0),
                            "train fraction 0.0 is outside (0, 1)")
        assertThrowsMessage(try Dataset.addition(p: 5, trainFraction: 1, seed: 0),
                            "train fraction 1.0 is outside (0, 1)")
        assertThrowsMessage(try Dataset.symmetricGroup(n: 3, trainFraction: -0.2, seed: 0),
                            "train fraction -0.2 is outside (0, 1)")
        assertThrowsMessage(try Dataset.modular(.add, p: 5, trainFraction: .nan, seed: 0),
                            "train fraction nan is outside (0, 1)")
        assertThrowsMessage(try Dataset.modular(.divide, p: 12, trainFraction: 0.3, seed: 0),
                            "p = 12 is not prime; modular division needs a prime modulus")
        assertThrowsMessage(try Dataset.symmetricGroup(n: 6, trainFraction: 0.3, seed: 0),
                            "n = 6 is outside 2...5; the symmetric group task supports S_2 to S_5")
        assertThrowsMessage(try Dataset.symmetricGroup(n: 1, trainFraction: 0.3, seed: 0),
                            "n = 1 is outside 2...5; the symmetric group task supports S_2 to S_5")
        assertThrowsMessage(try Dataset.compositionTable(n: 6),
                            "n = 6 is outside 2...5; the symmetric group task supports S_2 to S_5")
        assertThrowsMessage(try Dataset.modular(.divide, p: 2, trainFraction: 0.3, seed: 0),
                            "train fraction 0.3 of 2 examples leaves the train split empty")
        assertThrowsMessage(try Dataset.addition(p: 2, trainFraction: 0.1, seed: 0),
                            "train fraction 0.1 of 4 examples leaves the train split empty")
    }

    func testNonPrimeAllowedForOtherOperations() throws {
        let ds = try Dataset.modular(.multiply, p: 12, trainFraction: 0.3, seed: 0)
        XCTAssertEqual(ds.count, 144)
        XCTAssertEqual(label(ds, 5, 7), 11)   // 35 = 2·12 + 11
        XCTAssertEqual(try Dataset.modular(.subtract, p: 4, trainFraction: 0.5, seed: 0).count, 16)
    }
}
