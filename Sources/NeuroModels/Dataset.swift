import NeuroEngine

/// A binary operation on residues mod p, as in Power et al. (2022) and Nanda et al. (2023).
///
/// ```swift
/// let ds = try Dataset.modular(.add, p: 113, trainFraction: 0.3, seed: 598)
/// ```
public enum ModularOperation: String, CaseIterable, Sendable, Hashable {
    /// `(a + b) mod p`. Example: `.add` with p = 7 maps (5, 4) to 2.
    case add = "+"
    /// `(a - b) mod p`, always in `0..<p`. Example: `.subtract` with p = 7 maps (2, 5) to 4.
    case subtract = "-"
    /// `(a · b) mod p`. Example: `.multiply` with p = 7 maps (3, 5) to 1.
    case multiply = "*"
    /// `a · b⁻¹ mod p` for b ≠ 0 (needs p prime). Example: `.divide` with p = 7 maps (3, 2) to 5.
    case divide = "/"
    /// `(a² + b²) mod p`. Example: `.sumOfSquares` with p = 7 maps (2, 3) to 6.
    case sumOfSquares = "a^2+b^2"
    /// `(a³ + a·b) mod p`. Example: `.cubePlusProduct` with p = 7 maps (2, 3) to 0.
    case cubePlusProduct = "a^3+ab"

    /// The operation written as a formula in `a` and `b`, e.g. `ModularOperation.add.formula == "a+b"`.
    public var formula: String {
        switch self {
        case .add: return "a+b"
        case .subtract: return "a-b"
        case .multiply: return "a*b"
        case .divide: return "a/b"
        case .sumOfSquares: return "a^2+b^2"
        case .cubePlusProduct: return "a^3+ab"
        }
    }

    /// Whether the operation needs a prime modulus (only division does), e.g. `ModularOperation.divide.needsPrime == true`.
    public var needsPrime: Bool { self == .divide }

    /// The result for residues `a`, `b` already in `0..<p` (b ≠ 0 for division).
    /// Int arithmetic reduced step by step, so no overflow for p ≤ 10 000.
    func apply(_ a: Int, _ b: Int, p: Int) -> Int {
        switch self {
        case .add: return (a + b) % p
        case .subtract: return ((a - b) % p + p) % p
        case .multiply: return (a * b) % p
        case .divide: return (a * modularPower(b, p - 2, p)) % p
        case .sumOfSquares: return ((a * a) % p + (b * b) % p) % p
        case .cubePlusProduct:
            let square = (a * a) % p
            let cube = (square * a) % p
            return (cube + (a * b) % p) % p
        }
    }
}

/// `base^exponent mod modulus` by repeated squaring (all operands below 10 000², so no overflow).
func modularPower(_ base: Int, _ exponent: Int, _ modulus: Int) -> Int {
    if modulus == 1 { return 0 }
    var result = 1
    var b = ((base % modulus) + modulus) % modulus
    var e = exponent
    while e > 0 {
        if e & 1 == 1 { result = (result * b) % modulus }
        b = (b * b) % modulus
        e >>= 1
    }
    return result
}

/// Whether `n` is prime (trial division; fine for n ≤ 10 000), e.g. `isPrime(113) == true`.
func isPrime(_ n: Int) -> Bool {
    if n < 2 { return false }
    if n < 4 { return true }
    if n % 2 == 0 { return false }
    var d = 3
    while d * d <= n {
        if n % d == 0 { return false }
        d += 2
    }
    return true
}

/// Which algorithmic task a `Dataset` holds.
///
/// ```swift
/// let task = DatasetTask.modular(.add, p: 113)   // description "a+b mod 113"
/// ```
public enum DatasetTask: Equatable, Hashable, Sendable, CustomStringConvertible {
    /// Labels `(a op b) mod p`, e.g. `.modular(.add, p: 113)`.
    case modular(ModularOperation, p: Int)
    /// Plain `a + b` for a, b in `0..<p`, labels `0...2p-2` (so d_vocab_out = 2p-1), e.g. `.addition(p: 113)`.
    case addition(p: Int)
    /// Composition `a ∘ b` in S_n, elements as lexicographic permutation indices, e.g. `.symmetricGroup(n: 5)`.
    case symmetricGroup(n: Int)
    /// Composition in the cyclic group C_n (`a ∘ b = (a + b) mod n`), e.g. `.cyclicGroup(n: 7)`.
    case cyclicGroup(n: Int)
    /// Composition in the dihedral group D_n of order 2n (element `k + n·f` is r^k s^f), e.g. `.dihedralGroup(n: 5)`.
    case dihedralGroup(n: Int)

    /// A short human-readable name, e.g. `"a+b mod 113"`, `"a+b (p = 113, no mod)"`, `"S_5 composition"`.
    public var description: String {
        switch self {
        case let .modular(op, p): return "\(op.formula) mod \(p)"
        case let .addition(p): return "a+b (p = \(p), no mod)"
        case let .symmetricGroup(n): return "S_\(n) composition"
        case let .cyclicGroup(n): return "C_\(n) composition"
        case let .dihedralGroup(n): return "D_\(n) composition"
        }
    }

    /// Whether the task is cyclic arithmetic mod p, so Fourier analysis over the inputs
    /// and the labels is meaningful: true only for `.modular`, e.g. `DatasetTask.addition(p: 5).isModular == false`.
    /// (Fourier analysis is cleanest for prime p; only division enforces primality.)
    public var isModular: Bool {
        if case .modular = self { return true }
        return false
    }
}

/// One subset (train, test or all) of a `Dataset`: the rows' indices into the full grid,
/// with their tokens and labels in that order.
///
/// ```swift
/// let train = dataset.train   // train.tokens is [train.count, 3] int64
/// ```
public struct DatasetSplit {
    /// "train", "test" or "all", e.g. `dataset.test.name == "test"`.
    public let name: String
    /// Row indices into the full grid (`dataset.tokens`), in split order, e.g. `dataset.train.indices.first`.
    public let indices: [Int]
    /// `[count, 3]` int64 tokens `[a, b, =]` for those rows, e.g. `dataset.train.tokens.shape == [3830, 3]`.
    public let tokens: Tensor
    /// `[count]` int64 labels for those rows, e.g. `dataset.train.labels.toInts()`.
    public let labels: Tensor
    /// Number of rows, e.g. `dataset.test.count == 8939` for p = 113, fraction 0.3.
    public var count: Int { indices.count }

    init(name: String, indices: [Int], tokens: Tensor, labels: Tensor) {
        self.name = name
        self.indices = indices
        self.tokens = tokens
        self.labels = labels
    }
}

/// An algorithmic dataset: every input pair of a binary operation, as token sequences
/// `[a, b, =]` with their labels, plus a seeded train/test split.
///
/// Rows cover the full input grid in a-major order: row `i` is
/// `a = fieldDomains[0][i / gridShape[1]]`, `b = fieldDomains[1][i % gridShape[1]]`,
/// so anything computed over all rows reshapes to `gridShape + [...]`.
/// For every task except division that is simply `a = i / p`, `b = i % p` with
/// `gridShape == [p, p]` (or `[n!, n!]` for S_n). Division excludes b = 0 as in
/// Power et al., so its grid is `[p, p - 1]` with b running over `1..<p`
/// (row `i` is `a = i / (p-1)`, `b = 1 + i % (p-1)`).
///
/// The split follows the TransformerLens grokking demo: a random permutation of
/// `0..<count` from `RandomGenerator(seed:)`, its first `floor(count · trainFraction)`
/// entries are the train indices and the rest the test indices, both kept in
/// permutation order (not sorted). Our generator is not torch's, so the indices
/// differ from the demo's but are identical from run to run for a given seed.
///
/// ```swift
/// let ds = try Dataset.modular(.add, p: 113, trainFraction: 0.3, seed: 598)
/// // ds.tokens.shape == [12769, 3], ds.train.count == 3830, ds.test.count == 8939
/// ```
public struct Dataset {
    /// Which task this is, e.g. `ds.task == .modular(.add, p: 113)`.
    public let task: DatasetTask
    /// `[count, 3]` int64 tokens `[a, b, =]` over the full grid, e.g. `ds.tokens.shape == [12769, 3]`.
    public let tokens: Tensor
    /// `[count]` int64 labels over the full grid, e.g. `ds.labels.toInts()[1] == 1` for a+b mod p.
    public let labels: Tensor
    /// The input fields' names, `["a", "b"]`, e.g. `ds.fieldNames[0] == "a"`.
    public let fieldNames: [String]
    /// One array per field with `count` values each, in grid order, e.g. `ds.fieldValues[1][114] == 1` for p = 113.
    public let fieldValues: [[Int]]
    /// The values each field takes along its grid axis, in order: `0..<p` except b in `1..<p`
    /// for division, e.g. `ds.fieldDomains[1].count == ds.gridShape[1]`.
    public let fieldDomains: [[Int]]
    /// The grid's shape, `[p, p]`, `[p, p - 1]` for division, `[n!, n!]` for S_n;
    /// its product is `count`, e.g. `try ds.labels.reshaped(ds.gridShape)`.
    public let gridShape: [Int]
    /// Train row indices into the grid, in permutation order, e.g. `ds.trainIndices.count == 3830`.
    public private(set) var trainIndices: [Int]
    /// Test row indices into the grid, in permutation order, e.g. `ds.testIndices.count == 8939`.
    public private(set) var testIndices: [Int]
    /// Input vocabulary size: p + 1 (the '=' token is p) or n! + 1, e.g. `ds.dVocab == 114`.
    public let dVocab: Int
    /// Number of output classes: p, 2p - 1 (plain addition) or n!, e.g. `ds.dVocabOut == 113`.
    public let dVocabOut: Int
    /// Sequence length, always 3 (`[a, b, =]`), e.g. `ds.nCtx == 3`.
    public let nCtx: Int
    /// The '=' token: p, or n! for S_n, e.g. `ds.equalsToken == 113`.
    public let equalsToken: Int

    /// The seed of the split (or of the split this dataset was built with before `withSplit`).
    public let seed: UInt64
    /// The fraction of the grid in the train split, as asked for.
    public let trainFraction: Double

    private var trainSplit: DatasetSplit
    private var testSplit: DatasetSplit
    /// The group's Cayley table for S_n, C_n and D_n (empty for the other tasks):
    /// `groupTable[a][b]` is the index of `a ∘ b`, e.g. `ds.groupTable[1][1] == 0` for S_3.
    public let groupTable: [[Int]]

    /// Number of rows in the full grid, e.g. `ds.count == 12769` for p = 113.
    public var count: Int { fieldValues.first?.count ?? 0 }

    /// The size of each field's range of residues: p, or n! for S_n (values given to
    /// `tokens(fields:)` are reduced mod this), e.g. `ds.modulus == 113`.
    public var modulus: Int {
        switch task {
        case let .modular(_, p): return p
        case let .addition(p): return p
        case let .symmetricGroup(n): return factorial(n)
        case let .cyclicGroup(n): return n
        case let .dihedralGroup(n): return 2 * n
        }
    }

    /// Whether the task is cyclic arithmetic mod p (Fourier analysis needs it), e.g. `ds.isModular`.
    public var isModular: Bool { task.isModular }

    /// The train subset (tokens, labels, indices), e.g. `ds.train.tokens.shape == [3830, 3]`.
    public var train: DatasetSplit { trainSplit }
    /// The test subset (tokens, labels, indices), e.g. `ds.test.count == 8939`.
    public var test: DatasetSplit { testSplit }
    /// The whole grid as a split with indices `0..<count`, e.g. `ds.all.tokens === ds.tokens`.
    public var all: DatasetSplit {
        DatasetSplit(name: "all", indices: Array(0..<count), tokens: tokens, labels: labels)
    }

    /// Tokens `[a, b, =]` for given field values (one array per field, equal lengths), e.g.
    /// for corruptions: `try ds.tokens(fields: [ds.fieldValues[0].map { $0 + 1 }, ds.fieldValues[1]])`.
    /// Values are reduced mod `modulus` (negative values too). Throws on a wrong field count
    /// or a length mismatch. For division, b ≡ 0 is allowed here (it is a valid token) even
    /// though the task has no label for it.
    public func tokens(fields: [[Int]]) throws -> Tensor {
        let (a, b) = try reducedFields(fields, op: "tokens(fields:)")
        var values: [Int] = []
        values.reserveCapacity(a.count * 3)
        for i in 0..<a.count {
            values.append(a[i])
            values.append(b[i])
            values.append(equalsToken)
        }
        return try Tensor(ints: values, shape: [a.count, nCtx])
    }

    /// The labels the task assigns to those field values (a+b mod p, a∘b in S_n, ...), after
    /// reducing them mod `modulus`, e.g. `try ds.labels(fields: [[3], [2]])` is `[5]` for a/b mod 7.
    /// Throws like `tokens(fields:)`, and for division when some b ≡ 0 mod p.
    public func labels(fields: [[Int]]) throws -> Tensor {
        let (a, b) = try reducedFields(fields, op: "labels(fields:)")
        var out: [Int] = []
        out.reserveCapacity(a.count)
        switch task {
        case let .modular(op, p):
            for i in 0..<a.count {
                if op == .divide && b[i] == 0 {
                    throw EngineError(.argument, "labels(fields:): b = \(fields[1][i]) at position \(i) is 0 mod \(p); division by zero is undefined")
                }
                out.append(op.apply(a[i], b[i], p: p))
            }
        case .addition:
            for i in 0..<a.count { out.append(a[i] + b[i]) }
        case .symmetricGroup, .cyclicGroup, .dihedralGroup:
            for i in 0..<a.count { out.append(groupTable[a[i]][b[i]]) }
        }
        return try Tensor(ints: out, shape: [a.count])
    }

    /// Checks the field arrays and reduces them mod `modulus`.
    private func reducedFields(_ fields: [[Int]], op: String) throws -> ([Int], [Int]) {
        guard fields.count == fieldNames.count else {
            throw EngineError(.argument, "\(op): got \(fields.count) fields, expected \(fieldNames.count) (\(fieldNames.joined(separator: ", ")))")
        }
        guard fields[0].count == fields[1].count else {
            throw EngineError(.argument, "\(op): field a has \(fields[0].count) values but field b has \(fields[1].count)")
        }
        let m = modulus
        let reduce: (Int) -> Int = { (($0 % m) + m) % m }
        return (fields[0].map(reduce), fields[1].map(reduce))
    }

    /// Builds a dataset from the full grid's fields and labels, with a seeded split.
    init(task: DatasetTask, a: [Int], b: [Int], labels: [Int],
         fieldDomains: [[Int]], dVocabOut: Int, equalsToken: Int, groupTable: [[Int]] = [],
         trainFraction: Double, seed: UInt64) throws {
        let n = a.count
        let nTrain = try Dataset.trainCount(n, fraction: trainFraction)
        var generator = RandomGenerator(seed: seed)
        let order = generator.permutation(n)

        var tokenValues: [Int] = []
        tokenValues.reserveCapacity(n * 3)
        for i in 0..<n {
            tokenValues.append(a[i])
            tokenValues.append(b[i])
            tokenValues.append(equalsToken)
        }

        self.task = task
        self.tokens = try Tensor(ints: tokenValues, shape: [n, 3])
        self.labels = try Tensor(ints: labels, shape: [n])
        self.fieldNames = ["a", "b"]
        self.fieldValues = [a, b]
        self.fieldDomains = fieldDomains
        self.gridShape = fieldDomains.map(\.count)
        self.trainIndices = Array(order[0..<nTrain])
        self.testIndices = Array(order[nTrain...])
        self.dVocab = equalsToken + 1
        self.dVocabOut = dVocabOut
        self.nCtx = 3
        self.equalsToken = equalsToken
        self.groupTable = groupTable

        self.seed = seed
        self.trainFraction = trainFraction
        self.trainSplit = DatasetSplit(name: "train", indices: [], tokens: self.tokens, labels: self.labels)
        self.testSplit = trainSplit
        self.trainSplit = try subset("train", trainIndices)
        self.testSplit = try subset("test", testIndices)
    }

    /// The rows `indices` of the grid as a named split.
    public func subset(_ name: String, _ indices: [Int]) throws -> DatasetSplit {
        if let bad = indices.first(where: { $0 < 0 || $0 >= count }) {
            throw EngineError(.index, "\(name): row \(bad) is outside the dataset's 0..<\(count)")
        }
        let picks = try Tensor(ints: indices, shape: [indices.count])
        return DatasetSplit(name: name, indices: indices,
                            tokens: try tokens.indexSelect(axis: 0, indices: picks),
                            labels: try labels.indexSelect(axis: 0, indices: picks))
    }

    /// The same grid with a given train/test split (e.g. one saved in a
    /// checkpoint). The two index lists must be disjoint rows of the grid.
    public func withSplit(train: [Int], test: [Int]) throws -> Dataset {
        guard Set(train).isDisjoint(with: test) else {
            throw EngineError(.argument, "split: train and test share rows")
        }
        var copy = self
        copy.trainIndices = train
        copy.testIndices = test
        copy.trainSplit = try subset("train", train)
        copy.testSplit = try subset("test", test)
        return copy
    }

    /// `floor(count · fraction)` in Double arithmetic (like the demo's `int(frac * N)`),
    /// after checking the fraction is in (0, 1) and both splits are non-empty.
    static func trainCount(_ count: Int, fraction: Double) throws -> Int {
        guard fraction > 0 && fraction < 1 else {
            throw EngineError(.argument, "train fraction \(fraction) is outside (0, 1)")
        }
        let nTrain = Int((Double(count) * fraction).rounded(.down))
        guard nTrain > 0 else {
            throw EngineError(.argument, "train fraction \(fraction) of \(count) examples leaves the train split empty")
        }
        guard nTrain < count else {
            throw EngineError(.argument, "train fraction \(fraction) of \(count) examples leaves the test split empty")
        }
        return nTrain
    }
}

/// `n!` for small n (the callers keep n ≤ 20).
func factorial(_ n: Int) -> Int {
    n <= 1 ? 1 : (2...n).reduce(1, *)
}

extension Dataset {
    /// The inputs given as token rows `[batch, n_ctx]`, as a split named
    /// `name` of this dataset's rows (so their labels and fields are the
    /// dataset's): each row must be one of its inputs, e.g. `[a, b, =]`.
    /// Throws naming the first row that is not, since it would have no label.
    public func split(ofTokens given: Tensor, name: String = "given") throws -> DatasetSplit {
        guard given.rank == 2, given.shape[1] == nCtx, given.shape[0] >= 1 else {
            throw EngineError(.shape, "tokens for \(task) must be [batch, \(nCtx)], one input a row, got \(formatShape(given.shape))")
        }
        var rowOf: [[Int]: Int] = [:]
        let all = tokens.toInts()
        for i in 0..<count { rowOf[Array(all[(i * nCtx)..<((i + 1) * nCtx)])] = i }
        let ids = given.toInts()
        let indices = try (0..<given.shape[0]).map { r -> Int in
            let row = Array(ids[(r * nCtx)..<((r + 1) * nCtx)])
            guard let i = rowOf[row] else {
                throw EngineError(.argument, "row \(r), \(row), is not an input of \(task), so it has no label to measure against")
            }
            return i
        }
        let picks = try Tensor(ints: indices, shape: [indices.count])
        return DatasetSplit(name: name, indices: indices, tokens: try tokens.indexSelect(axis: 0, indices: picks),
                            labels: try labels.indexSelect(axis: 0, indices: picks))
    }
}
