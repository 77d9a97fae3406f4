import NeuroEngine

extension Dataset {
    /// The largest modulus accepted: the grid has p² rows, so p = 10 000 is already 10⁸ examples.
    public static let maxModulus = 1_000

    /// `(a op b) mod p` over the full grid, e.g. the Nanda et al. setup:
    /// `try Dataset.modular(.add, p: 113, trainFraction: 0.3, seed: 598)`.
    ///
    /// Tokens are `[a, b, p]` (the '=' token is p), so `dVocab = p + 1`, `dVocabOut = p`.
    /// Needs 2 ≤ p ≤ 10 000. Division needs p prime and excludes b = 0 (as in Power et al.),
    /// giving a `[p, p - 1]` grid with b in `1..<p`; the other operations accept any p,
    /// though Fourier analysis of the trained model is only clean for prime p.
    /// Throws when p or `trainFraction` (which must be in (0, 1)) is out of range.
    public static func modular(_ op: ModularOperation, p: Int, trainFraction: Double, seed: UInt64) throws -> Dataset {
        try checkModulus(p)
        if op.needsPrime && !isPrime(p) {
            throw EngineError(.argument, "p = \(p) is not prime; modular division needs a prime modulus")
        }
        _ = try trainCount(p * (op == .divide ? p - 1 : p), fraction: trainFraction)
        let domainA = Array(0..<p)
        let domainB = op == .divide ? Array(1..<p) : Array(0..<p)
        let n = domainA.count * domainB.count
        var a: [Int] = [], b: [Int] = [], labels: [Int] = []
        a.reserveCapacity(n); b.reserveCapacity(n); labels.reserveCapacity(n)
        // Division: precompute the inverses once rather than a power per row.
        let inverses = op == .divide ? (0..<p).map { $0 == 0 ? 0 : modularPower($0, p - 2, p) } : []
        for x in domainA {
            for y in domainB {
                a.append(x)
                b.append(y)
                labels.append(op == .divide ? (x * inverses[y]) % p : op.apply(x, y, p: p))
            }
        }
        return try Dataset(task: .modular(op, p: p), a: a, b: b, labels: labels,
                           fieldDomains: [domainA, domainB], dVocabOut: p, equalsToken: p,
                           trainFraction: trainFraction, seed: seed)
    }

    /// Plain `a + b` (no reduction) for a, b in `0..<p`: labels `0...2p-2`, so `dVocabOut = 2p - 1`,
    /// e.g. `try Dataset.addition(p: 113, trainFraction: 0.3, seed: 0)`.
    /// Tokens are `[a, b, p]`, `dVocab = p + 1`; any 2 ≤ p ≤ 10 000.
    /// Throws when p or `trainFraction` (which must be in (0, 1)) is out of range.
    public static func addition(p: Int, trainFraction: Double, seed: UInt64) throws -> Dataset {
        try checkModulus(p)
        _ = try trainCount(p * p, fraction: trainFraction)
        let n = p * p
        var a: [Int] = [], b: [Int] = [], labels: [Int] = []
        a.reserveCapacity(n); b.reserveCapacity(n); labels.reserveCapacity(n)
        for x in 0..<p {
            for y in 0..<p {
                a.append(x)
                b.append(y)
                labels.append(x + y)
            }
        }
        let domain = Array(0..<p)
        return try Dataset(task: .addition(p: p), a: a, b: b, labels: labels,
                           fieldDomains: [domain, domain], dVocabOut: 2 * p - 1, equalsToken: p,
                           trainFraction: trainFraction, seed: seed)
    }

    /// Throws unless 2 ≤ p ≤ `maxModulus`.
    static func checkModulus(_ p: Int) throws {
        guard p >= 2 && p <= maxModulus else {
            throw EngineError(.argument, "p = \(p) is outside 2...\(maxModulus)")
        }
    }
}
