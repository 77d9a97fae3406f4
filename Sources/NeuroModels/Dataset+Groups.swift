import NeuroEngine

extension Dataset {
    /// The orders the cyclic group task supports, C_2 to C_200.
    public static let cyclicGroupSizes = 2...200
    /// The polygon sizes the dihedral group task supports, D_3 (order 6) to D_100 (order 200).
    public static let dihedralGroupSizes = 3...100

    /// Composition in the cyclic group C_n, e.g. `try Dataset.cyclicGroup(n: 7, trainFraction: 0.5, seed: 0)`.
    ///
    /// Element k (0..<n) is the rotation by k steps; `a ∘ b = (a + b) mod n`, so index 0 is the
    /// identity. Tokens are `[a, b, n]` (the '=' token is n), labels `a ∘ b`, the grid `[n, n]`
    /// in a-major order — the same rows as `modular(.add, p: n)`, as a group task.
    /// Throws when n is outside 2...200 or `trainFraction` is outside (0, 1).
    public static func cyclicGroup(n: Int, trainFraction: Double, seed: UInt64) throws -> Dataset {
        guard cyclicGroupSizes.contains(n) else {
            throw EngineError(.argument, "n = \(n) is outside 2...200; the cyclic group task supports C_2 to C_200")
        }
        return try groupDataset(task: .cyclicGroup(n: n), table: cyclicTable(n: n), trainFraction: trainFraction, seed: seed)
    }

    /// Composition in the dihedral group D_n of the regular n-gon (order 2n), e.g.
    /// `try Dataset.dihedralGroup(n: 5, trainFraction: 0.5, seed: 0)`.
    ///
    /// Element `k + n·f` (k in 0..<n, f in {0, 1}) is r^k s^f, acting on the polygon's vertices
    /// `0..<n` as `v ↦ k + (−1)^f v (mod n)`: r^k rotates by k steps, s reflects `v ↦ −v`.
    /// Composition is that of maps, `(a ∘ b)(v) = a(b(v))`, as for S_n, so
    /// `r^k s^f ∘ r^m s^g = r^(k + (−1)^f m) s^(f+g)`; index 0 is the identity, index n is s.
    /// Tokens are `[a, b, 2n]`, the grid `[2n, 2n]` in a-major order.
    /// Throws when n is outside 3...100 or `trainFraction` is outside (0, 1).
    public static func dihedralGroup(n: Int, trainFraction: Double, seed: UInt64) throws -> Dataset {
        guard dihedralGroupSizes.contains(n) else {
            throw EngineError(.argument, "n = \(n) is outside 3...100; the dihedral group task supports D_3 to D_100 (orders 6 to 200)")
        }
        return try groupDataset(task: .dihedralGroup(n: n), table: dihedralTable(n: n), trainFraction: trainFraction, seed: seed)
    }

    /// The Cayley table of C_n: `table[a][b] == (a + b) % n`.
    public static func cyclicTable(n: Int) -> [[Int]] {
        (0..<n).map { a in (0..<n).map { b in (a + b) % n } }
    }

    /// The Cayley table of D_n in the order of `dihedralGroup(n:…)`: `table[x][y]` is the index of `x ∘ y`.
    public static func dihedralTable(n: Int) -> [[Int]] {
        (0..<(2 * n)).map { x in
            let (k, f) = (x % n, x / n)
            return (0..<(2 * n)).map { y in
                let (m, g) = (y % n, y / n)
                let rotation = ((k + (f == 0 ? m : -m)) % n + n) % n
                return rotation + n * ((f + g) % 2)
            }
        }
    }

    /// A dataset of every pair of a finite group's elements, labelled by the table.
    static func groupDataset(task: DatasetTask, table: [[Int]], trainFraction: Double, seed: UInt64) throws -> Dataset {
        let order = table.count
        _ = try trainCount(order * order, fraction: trainFraction)
        var a: [Int] = [], b: [Int] = [], labels: [Int] = []
        a.reserveCapacity(order * order); b.reserveCapacity(order * order); labels.reserveCapacity(order * order)
        for x in 0..<order {
            for y in 0..<order {
                a.append(x)
                b.append(y)
                labels.append(table[x][y])
            }
        }
        let domain = Array(0..<order)
        return try Dataset(task: task, a: a, b: b, labels: labels, fieldDomains: [domain, domain], dVocabOut: order,
                           equalsToken: order, groupTable: table, trainFraction: trainFraction, seed: seed)
    }
}
