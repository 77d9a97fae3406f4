import Foundation
import NeuroEngine
import NeuroModels

/// One real irreducible representation of a finite group: an orthogonal
/// matrix per element, in the element order of the group's dataset.
///
/// ```swift
/// let s4 = try FiniteGroup(task: .symmetricGroup(n: 4))
/// let standard = s4.representations[1]   // "[3,1]", 3-dimensional
/// standard.matrix(5)                      // ρ(element 5), row-major 3×3
/// ```
public struct GroupRepresentation: Sendable {
    /// Its name: the partition for S_n (`"[3,1]"`), `"trivial"`, `"sign"`, `"k=2"` (C_n), `"2d j=1"` (D_n).
    public let name: String
    /// What it is in words (`"standard"`, `"sign"`, `"rotation by 2πk·g/n"`), or "".
    public let about: String
    /// Its dimension d.
    public let dimension: Int
    /// `matrices[g]` is ρ(g), row-major d×d, for every element g.
    public let matrices: [[Double]]
    /// ⟨χ, χ⟩ = (1/|G|) Σ_g χ(g)²: 1 for an absolutely irreducible representation,
    /// 2 for the real form of a pair of complex characters (C_n's 2-d rotations).
    public let characterNorm: Double

    /// ρ(g), row-major d×d.
    public func matrix(_ g: Int) -> [Double] { matrices[g] }
    /// The character χ(g) = trace ρ(g) for every element g.
    public var characters: [Double] {
        matrices.map { m in (0..<dimension).reduce(0) { $0 + m[$1 * dimension + $1] } }
    }
}

/// A finite group given by its Cayley table (in a dataset's element order and
/// composition convention), with its real irreducible representations.
///
/// S_n (n ≤ 5) uses Young's orthogonal form on standard Young tableaux: the
/// adjacent transposition (k k+1) sends tableau T to (1/r)·T + √(1 − 1/r²)·T′,
/// r the axial distance from k to k+1 and T′ the tableau with k and k+1
/// swapped. C_n has the trivial representation, the 2-d rotations g ↦ R(2πk g/n)
/// for k = 1…⌈n/2⌉−1 (the real form of the complex characters e^{±2πikg/n}) and,
/// for even n, the sign g ↦ (−1)^g. D_n has its 1-d representations (trivial,
/// reflection sign, and for even n the rotation sign and their product) and the
/// 2-d ones r^k s^f ↦ R(2πjk/n)·diag(1, −1)^f, j = 1…⌈n/2⌉−1.
/// Every element's matrix is built from the generators' through the table,
/// `ρ(g ∘ x) = ρ(g) ρ(x)`, so ρ(a)ρ(b) = ρ(a ∘ b) with `a ∘ b` the dataset's label.
public struct FiniteGroup: Sendable {
    /// `"S_4"`, `"C_7"`, `"D_5"`.
    public let name: String
    /// `table[a][b]` is the index of `a ∘ b`, as the dataset labels it.
    public let table: [[Int]]
    /// `inverses[g]` is g⁻¹.
    public let inverses: [Int]
    /// The identity's index (0 for every dataset here).
    public let identity: Int
    /// The irreducible representations, trivial first.
    public let representations: [GroupRepresentation]

    /// The group's order |G|.
    public var order: Int { table.count }

    /// The group of a dataset's task: S_n (n ≤ 5), C_n, D_n, or modular addition
    /// mod p read as C_p. Throws for other tasks and for S_n with n > 5.
    public init(task: DatasetTask) throws {
        switch task {
        case let .symmetricGroup(n): self = try FiniteGroup.symmetric(n: n)
        case let .cyclicGroup(n): self = try FiniteGroup.cyclic(n: n)
        case let .modular(.add, p): self = try FiniteGroup.cyclic(n: p)
        case let .dihedralGroup(n): self = try FiniteGroup.dihedral(n: n)
        default:
            throw EngineError(.argument, "representations need a group dataset (S_n, C_n, D_n, or a+b mod p as C_p); \(task) is not one")
        }
    }

    init(name: String, table: [[Int]], representations: (_ table: [[Int]]) throws -> [GroupRepresentation]) throws {
        let order = table.count
        guard let identity = (0..<order).first(where: { e in (0..<order).allSatisfy { table[e][$0] == $0 } }) else {
            throw EngineError(.argument, "\(name): the table has no identity")
        }
        var inverses = [Int](repeating: -1, count: order)
        for a in 0..<order {
            guard let b = (0..<order).first(where: { table[a][$0] == identity }) else {
                throw EngineError(.argument, "\(name): element \(a) has no inverse")
            }
            inverses[a] = b
        }
        self.name = name
        self.table = table
        self.identity = identity
        self.inverses = inverses
        self.representations = try representations(table)
    }

    // MARK: - The groups

    /// S_n for n in 2...5, in `Dataset.symmetricGroup`'s order (lexicographic permutations,
    /// `(a ∘ b)(i) = a(b(i))`), with one representation per partition of n.
    public static func symmetric(n: Int) throws -> FiniteGroup {
        guard n >= 2 else { throw EngineError(.argument, "S_\(n): n must be at least 2") }
        guard n <= 5 else {
            throw EngineError(.argument, "S_\(n) has \(FiniteGroup.factorial(n)) elements; explicit representations are built only up to S_5 (120 elements)")
        }
        let table = try Dataset.compositionTable(n: n)
        return try FiniteGroup(name: "S_\(n)", table: table) { table in
            let generators = try (1..<n).map { k -> Int in
                var images = Array(0..<n)
                images.swapAt(k - 1, k)
                return try Dataset.permutationIndex(images)
            }
            return try partitions(n).map { shape in
                let tableaux = standardTableaux(shape)
                let mats = (1..<n).map { youngTransposition(swapping: $0 - 1, tableaux: tableaux) }
                return GroupRepresentation(name: "[" + shape.map(String.init).joined(separator: ",") + "]", about: about(shape),
                                           dimension: tableaux.count,
                                           matrices: try generated(table: table, generators: Array(zip(generators, mats)), dimension: tableaux.count),
                                           characterNorm: 1)
            }
        }
    }

    /// C_n in `Dataset.cyclicGroup`'s order (element k, `a ∘ b = (a + b) mod n`).
    public static func cyclic(n: Int) throws -> FiniteGroup {
        guard n >= 2 && n <= 1000 else { throw EngineError(.argument, "C_\(n): n must be in 2...1000") }
        return try FiniteGroup(name: "C_\(n)", table: Dataset.cyclicTable(n: n)) { table in
            var reps = [oneDimensional("trivial", "", table) { _ in 1 }]
            for k in stride(from: 1, to: (n + 1) / 2, by: 1) {
                let t = 2 * Double.pi * Double(k) / Double(n)
                reps.append(GroupRepresentation(name: "k=\(k)", about: "rotation by 2π·\(k)g/\(n)", dimension: 2,
                                                matrices: try generated(table: table, generators: [(1, rotation(t))], dimension: 2),
                                                characterNorm: 2))
            }
            if n % 2 == 0 { reps.append(oneDimensional("sign", "(−1)^g", table) { $0 % 2 == 0 ? 1 : -1 }) }
            return reps
        }
    }

    /// D_n (order 2n) in `Dataset.dihedralGroup`'s order (element k + n·f is r^k s^f).
    public static func dihedral(n: Int) throws -> FiniteGroup {
        guard n >= 3 && n <= 500 else { throw EngineError(.argument, "D_\(n): n must be in 3...500") }
        return try FiniteGroup(name: "D_\(n)", table: Dataset.dihedralTable(n: n)) { table in
            var reps = [oneDimensional("trivial", "", table) { _ in 1 },
                        oneDimensional("sign", "reflections −1", table) { $0 / n == 0 ? 1 : -1 }]
            if n % 2 == 0 {
                reps.append(oneDimensional("rotation sign", "r −1, s 1", table) { ($0 % n) % 2 == 0 ? 1 : -1 })
                reps.append(oneDimensional("both signs", "r −1, s −1", table) { (($0 % n) + $0 / n) % 2 == 0 ? 1 : -1 })
            }
            for j in stride(from: 1, to: (n + 1) / 2, by: 1) {
                let t = 2 * Double.pi * Double(j) / Double(n)
                reps.append(GroupRepresentation(name: "2d j=\(j)", about: "r ↦ rotation by 2π·\(j)/\(n), s ↦ reflection", dimension: 2,
                                                matrices: try generated(table: table, generators: [(1, rotation(t)), (n, [1, 0, 0, -1])], dimension: 2),
                                                characterNorm: 1))
            }
            return reps
        }
    }

    // MARK: - Building matrices

    /// Every element's matrix from the generators' by breadth-first search over
    /// the table, ρ(g ∘ x) = ρ(g) ρ(x). Throws when the generators do not generate the group.
    static func generated(table: [[Int]], generators: [(Int, [Double])], dimension d: Int) throws -> [[Double]] {
        let order = table.count
        var matrices = [[Double]?](repeating: nil, count: order)
        var identity = [Double](repeating: 0, count: d * d)
        for i in 0..<d { identity[i * d + i] = 1 }
        let e = (0..<order).first { e in (0..<order).allSatisfy { table[e][$0] == $0 } } ?? 0
        matrices[e] = identity
        var queue = [e]
        var head = 0
        while head < queue.count {
            let x = queue[head]
            head += 1
            guard let mx = matrices[x] else { continue }
            for (g, mg) in generators {
                let y = table[g][x]
                if matrices[y] == nil {
                    matrices[y] = multiply(mg, mx, d)
                    queue.append(y)
                }
            }
        }
        guard queue.count == order else {
            throw EngineError(.argument, "the generators reach \(queue.count) of \(order) elements")
        }
        return matrices.map { $0 ?? identity }
    }

    /// Row-major d×d product.
    static func multiply(_ a: [Double], _ b: [Double], _ d: Int) -> [Double] {
        var out = [Double](repeating: 0, count: d * d)
        for i in 0..<d {
            for k in 0..<d where a[i * d + k] != 0 {
                let aik = a[i * d + k]
                for j in 0..<d { out[i * d + j] += aik * b[k * d + j] }
            }
        }
        return out
    }

    static func rotation(_ t: Double) -> [Double] { [cos(t), -sin(t), sin(t), cos(t)] }

    static func oneDimensional(_ name: String, _ about: String, _ table: [[Int]], _ value: (Int) -> Double) -> GroupRepresentation {
        GroupRepresentation(name: name, about: about, dimension: 1, matrices: (0..<table.count).map { [value($0)] }, characterNorm: 1)
    }

    static func factorial(_ n: Int) -> Int { n <= 1 ? 1 : (2...n).reduce(1, *) }

    // MARK: - Young's orthogonal form

    /// The partitions of n, largest first part first: [n], [n−1,1], …, [1,…,1].
    static func partitions(_ n: Int) -> [[Int]] {
        func parts(_ rest: Int, _ largest: Int) -> [[Int]] {
            if rest == 0 { return [[]] }
            return stride(from: min(rest, largest), through: 1, by: -1).flatMap { first in
                parts(rest - first, first).map { [first] + $0 }
            }
        }
        return parts(n, n)
    }

    /// What a partition's representation is known as.
    static func about(_ shape: [Int]) -> String {
        let n = shape.reduce(0, +)
        let conjugate = (0..<(shape.first ?? 0)).map { c in shape.filter { $0 > c }.count }
        if shape == [n] { return "trivial" }
        if shape.allSatisfy({ $0 == 1 }) { return "sign" }
        if shape == [n - 1, 1] { return conjugate == shape ? "standard (= standard ⊗ sign)" : "standard" }
        if conjugate == [n - 1, 1] { return "standard ⊗ sign" }
        if shape == [n - 2, 1, 1] { return "∧² standard" }
        return conjugate == shape ? "self-conjugate" : "[" + conjugate.map(String.init).joined(separator: ",") + "] ⊗ sign"
    }

    /// The standard Young tableaux of a shape, each as the (row, column) of the numbers 0..<n.
    static func standardTableaux(_ shape: [Int]) -> [[(row: Int, col: Int)]] {
        let n = shape.reduce(0, +)
        var out: [[(row: Int, col: Int)]] = []
        var filled = [Int](repeating: 0, count: shape.count)
        var positions: [(row: Int, col: Int)] = []
        func place(_ number: Int) {
            if number == n { out.append(positions); return }
            for row in 0..<shape.count where filled[row] < shape[row] && (row == 0 || filled[row - 1] > filled[row]) {
                positions.append((row, filled[row]))
                filled[row] += 1
                place(number + 1)
                filled[row] -= 1
                positions.removeLast()
            }
        }
        place(0)
        return out
    }

    /// ρ of the transposition of the numbers k and k+1 (0-based) in Young's orthogonal form.
    static func youngTransposition(swapping k: Int, tableaux: [[(row: Int, col: Int)]]) -> [Double] {
        let d = tableaux.count
        var index = [[Int]: Int]()
        func key(_ t: [(row: Int, col: Int)]) -> [Int] { t.flatMap { [$0.row, $0.col] } }
        for (i, t) in tableaux.enumerated() { index[key(t)] = i }
        var m = [Double](repeating: 0, count: d * d)
        for (i, t) in tableaux.enumerated() {
            let r = Double((t[k + 1].col - t[k + 1].row) - (t[k].col - t[k].row))   // axial distance
            m[i * d + i] = 1 / r
            var swapped = t
            swapped.swapAt(k, k + 1)
            if abs(r) > 1, let j = index[key(swapped)] {
                m[j * d + i] = (1 - 1 / (r * r)).squareRoot()
            }
        }
        return m
    }
}
