import NeuroEngine

extension Dataset {
    /// The symmetric groups the dataset supports, S_2 to S_5 (S_5 has 120 elements, 14 400 pairs).
    public static let symmetricGroupSizes = 2...5

    /// Composition `a ∘ b` in S_n over all (n!)² pairs, as in Chughtai et al.,
    /// e.g. `try Dataset.symmetricGroup(n: 5, trainFraction: 0.4, seed: 0)`.
    ///
    /// Elements are the n! permutations of `0..<n` in lexicographic order (index 0 is the
    /// identity, see `permutation(index:n:)`); `(a ∘ b)(i) = a(b(i))`. Tokens are `[a, b, n!]`,
    /// so `dVocab = n! + 1`, `dVocabOut = n!`, and the grid is `[n!, n!]` in a-major order.
    /// Throws when n is outside 2...5 or `trainFraction` is outside (0, 1).
    public static func symmetricGroup(n: Int, trainFraction: Double, seed: UInt64) throws -> Dataset {
        try checkGroupSize(n)
        return try groupDataset(task: .symmetricGroup(n: n), table: try compositionTable(n: n), trainFraction: trainFraction, seed: seed)
    }

    /// The permutation of `0..<n` with the given lexicographic index (0 is the identity),
    /// as the list of images `[σ(0), σ(1), ...]`, e.g. `try Dataset.permutation(index: 1, n: 3) == [0, 2, 1]`.
    /// Throws when n is outside 1...20 or the index is outside `0..<n!`.
    public static func permutation(index: Int, n: Int) throws -> [Int] {
        guard n >= 1 && n <= 20 else {
            throw EngineError(.argument, "permutation(index:n:): n = \(n) is outside 1...20")
        }
        let order = factorial(n)
        guard index >= 0 && index < order else {
            throw EngineError(.argument, "permutation(index:n:): index \(index) is outside 0..<\(order) for S_\(n)")
        }
        // Decode the factorial-number-system digits (Lehmer code).
        var remaining = Array(0..<n)
        var rest = index
        var result: [Int] = []
        result.reserveCapacity(n)
        for position in 0..<n {
            let block = factorial(n - 1 - position)
            let digit = rest / block
            rest %= block
            result.append(remaining.remove(at: digit))
        }
        return result
    }

    /// The lexicographic index of a permutation of `0..<n` given as its images, the inverse
    /// of `permutation(index:n:)`, e.g. `try Dataset.permutationIndex([0, 2, 1]) == 1`.
    /// Throws when the list is empty, longer than 20, or not a permutation of `0..<n`.
    public static func permutationIndex(_ permutation: [Int]) throws -> Int {
        let n = permutation.count
        guard n >= 1 && n <= 20 else {
            throw EngineError(.argument, "permutationIndex: length \(n) is outside 1...20")
        }
        var seen = [Bool](repeating: false, count: n)
        for value in permutation {
            guard value >= 0 && value < n && !seen[value] else {
                throw EngineError(.argument, "permutationIndex: \(permutation) is not a permutation of 0..<\(n)")
            }
            seen[value] = true
        }
        var index = 0
        for position in 0..<n {
            let smallerLater = permutation[(position + 1)...].filter { $0 < permutation[position] }.count
            index += smallerLater * factorial(n - 1 - position)
        }
        return index
    }

    /// The Cayley table of S_n: `table[a][b]` is the index of `a ∘ b`, where
    /// `(a ∘ b)(i) = a(b(i))`, e.g. `try Dataset.compositionTable(n: 3)[1][1] == 0`.
    /// Throws when n is outside 2...5.
    public static func compositionTable(n: Int) throws -> [[Int]] {
        try checkGroupSize(n)
        let order = factorial(n)
        let elements = try (0..<order).map { try permutation(index: $0, n: n) }
        var table: [[Int]] = []
        table.reserveCapacity(order)
        for x in elements {
            var row: [Int] = []
            row.reserveCapacity(order)
            for y in elements {
                row.append(try permutationIndex(y.map { x[$0] }))
            }
            table.append(row)
        }
        return table
    }

    /// Throws unless n is in `symmetricGroupSizes`.
    static func checkGroupSize(_ n: Int) throws {
        guard symmetricGroupSizes.contains(n) else {
            throw EngineError(.argument, "n = \(n) is outside 2...5; the symmetric group task supports S_2 to S_5")
        }
    }
}
