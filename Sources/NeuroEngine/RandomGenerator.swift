/// A seeded pseudo-random generator (xoshiro256**, seeded through SplitMix64):
/// the same seed gives the same numbers on every run and machine.
///
/// ```swift
/// var rng = RandomGenerator(seed: 42)
/// let w = try Tensor.randn([4, 4], std: 0.02, using: &rng)
/// ```
public struct RandomGenerator: RandomNumberGenerator, Sendable, Equatable {
    private var state: (UInt64, UInt64, UInt64, UInt64)
    private var spareNormal: Double?

    public init(seed: UInt64) {
        var s = seed
        func splitMix() -> UInt64 {
            s &+= 0x9E37_79B9_7F4A_7C15
            var z = s
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        state = (splitMix(), splitMix(), splitMix(), splitMix())
        spareNormal = nil
    }

    public static func == (a: RandomGenerator, b: RandomGenerator) -> Bool {
        a.state == b.state && a.spareNormal == b.spareNormal
    }

    /// The generator's full state, to save and restore (e.g. in a checkpoint).
    public var snapshot: [UInt64] {
        [state.0, state.1, state.2, state.3, spareNormal.map { $0.bitPattern } ?? 0, spareNormal == nil ? 0 : 1]
    }

    /// Restores a state from `snapshot`; nil when the list is not one.
    public init?(snapshot: [UInt64]) {
        guard snapshot.count == 6 else { return nil }
        state = (snapshot[0], snapshot[1], snapshot[2], snapshot[3])
        spareNormal = snapshot[5] == 1 ? Double(bitPattern: snapshot[4]) : nil
    }

    public mutating func next() -> UInt64 {
        let result = rotl(state.1 &* 5, 7) &* 9
        let t = state.1 << 17
        state.2 ^= state.0
        state.3 ^= state.1
        state.1 ^= state.2
        state.0 ^= state.3
        state.2 ^= t
        state.3 = rotl(state.3, 45)
        return result
    }

    private func rotl(_ x: UInt64, _ k: UInt64) -> UInt64 { (x << k) | (x >> (64 - k)) }

    /// Uniform in [0, 1) with 53 random bits.
    public mutating func nextUniform() -> Double {
        Double(next() >> 11) * 0x1.0p-53
    }

    /// Standard normal (Box–Muller, both values used).
    public mutating func nextNormal() -> Double {
        if let spare = spareNormal {
            spareNormal = nil
            return spare
        }
        var u = nextUniform()
        while u <= 0 { u = nextUniform() }
        let v = nextUniform()
        let radius = (-2 * _log(u)).squareRoot()
        let angle = 2 * Double.pi * v
        spareNormal = radius * _sin(angle)
        return radius * _cos(angle)
    }

    /// A uniformly random integer in `0..<bound` (bound > 0).
    public mutating func nextInt(below bound: Int) -> Int {
        Int(next(upperBound: UInt64(Swift.max(bound, 1))))
    }

    /// A random ordering of `0..<n` (Fisher–Yates).
    public mutating func permutation(_ n: Int) -> [Int] {
        var values = Array(0..<Swift.max(n, 0))
        if n < 2 { return values }
        for i in stride(from: n - 1, to: 0, by: -1) {
            values.swapAt(i, nextInt(below: i + 1))
        }
        return values
    }
}

@inline(__always) private func _log(_ x: Double) -> Double { Double.log(x) }
@inline(__always) private func _sin(_ x: Double) -> Double { Double.sin(x) }
@inline(__always) private func _cos(_ x: Double) -> Double { Double.cos(x) }
