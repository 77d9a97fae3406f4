import XCTest
@testable import NeuroEngine

/// Finite-difference gradient checks for every differentiable op, one test per
/// family. Each family is a table of `GradCase`s run through `checkGradients`.
final class GradientTests: XCTestCase {
    /// How an input's values are drawn, so ops are checked away from their kinks.
    enum Domain {
        /// Standard normal.
        case normal
        /// `|normal| + 0.5`: for log, sqrt, reciprocal, fractional powers, divisors.
        case positive
        /// Normal pushed at least 0.2 away from 0: for abs, relu, 1/x.
        case awayFromZero
        /// A shuffled grid with step 0.3, offset by 0.1 for input 0 and 0.2 for
        /// input 1: no two values tie (within or across those inputs) and all
        /// stay ≥ 0.1 from 0 and ≥ 0.05 from ±0.55. For max, min, maximum,
        /// minimum and clamp.
        case distinct
    }

    /// One input: its shape and how its values are drawn.
    struct Arg {
        let shape: [Int]
        let domain: Domain
        static func normal(_ shape: [Int]) -> Arg { Arg(shape: shape, domain: .normal) }
        static func positive(_ shape: [Int]) -> Arg { Arg(shape: shape, domain: .positive) }
        static func away(_ shape: [Int]) -> Arg { Arg(shape: shape, domain: .awayFromZero) }
        static func distinct(_ shape: [Int]) -> Arg { Arg(shape: shape, domain: .distinct) }
    }

    /// One gradient check: a name for failures, the inputs, and the function.
    struct GradCase {
        let name: String
        let args: [Arg]
        let tolerance: Double
        let step: Double
        let f: ([Tensor]) throws -> Tensor

        init(_ name: String, _ args: [Arg], tolerance: Double = 1e-6, step: Double = 1e-6,
             _ f: @escaping ([Tensor]) throws -> Tensor) {
            self.name = name
            self.args = args
            self.tolerance = tolerance
            self.step = step
            self.f = f
        }

        /// A one-input case.
        static func unary(_ name: String, _ arg: Arg, tolerance: Double = 1e-6, step: Double = 1e-6,
                          _ f: @escaping (Tensor) throws -> Tensor) -> GradCase {
            GradCase(name, [arg], tolerance: tolerance, step: step) { try f($0[0]) }
        }
    }

    private func makeInput(_ arg: Arg, position: Int, _ rng: inout RandomGenerator) throws -> Tensor {
        let n = arg.shape.reduce(1, *)
        let base = try Tensor.randn(arg.shape, dtype: .float64, using: &rng).toDoubles()
        let values: [Double]
        switch arg.domain {
        case .normal: values = base
        case .positive: values = base.map { Swift.abs($0) + 0.5 }
        case .awayFromZero: values = base.map { ($0 < 0 ? -1 : 1) * (Swift.abs($0) + 0.2) }
        case .distinct:
            values = rng.permutation(n).map { (Double($0) - Double(n / 2)) * 0.3 + 0.1 + 0.1 * Double(position) }
        }
        return try Tensor(float64: values, shape: arg.shape)
    }

    /// Runs every case with inputs from one seeded generator.
    private func run(_ cases: [GradCase], file: StaticString = #filePath, line: UInt = #line) throws {
        var rng = RandomGenerator(seed: 2024)
        for c in cases {
            let inputs = try c.args.enumerated().map { try makeInput($0.element, position: $0.offset, &rng) }
            checkGradients(c.name, inputs: inputs, tolerance: c.tolerance, step: c.step, file: file, line: line, c.f)
        }
    }

    // MARK: - Elementwise

    func testBinaryArithmeticWithBroadcasting() throws {
        let ops: [(String, (Tensor, Tensor) throws -> Tensor)] = [("add", { try $0 + $1 }), ("sub", { try $0 - $1 }),
                                                                  ("mul", { try $0 * $1 }), ("div", { try $0 / $1 })]
        let shapes: [([Int], [Int])] = [([2, 3], [2, 3]), ([2, 3], [3]), ([3], [2, 3]), ([2, 1, 4], [3, 1]),
                                        ([3, 1], [2, 1, 4]), ([2, 3], []), ([], [2, 3])]
        var cases: [GradCase] = []
        for (name, op) in ops {
            for (a, b) in shapes {
                // Divisors stay positive; every other op is fine with them too.
                cases.append(GradCase("\(name) \(a) \(b)", [.normal(a), .positive(b)]) { try op($0[0], $0[1]) })
            }
            cases.append(.unary("\(name) x with itself", .positive([2, 3])) { try op($0, $0) })
        }
        try run(cases)
    }

    func testScalarOperations() throws {
        let ops: [(String, Domain, (Tensor) throws -> Tensor)] = [
            ("shifted(2.5)", .normal, { try $0.shifted(2.5) }),
            ("scaled(-1.5)", .normal, { try $0.scaled(-1.5) }),
            ("negated", .normal, { try $0.negated() }),
            ("prefix -", .normal, { try -$0 }),
            ("x + 2", .normal, { try $0 + 2 }),
            ("2 + x", .normal, { try 2 + $0 }),
            ("x - 2", .normal, { try $0 - 2 }),
            ("2 - x", .normal, { try 2 - $0 }),
            ("x * 3", .normal, { try $0 * 3 }),
            ("3 * x", .normal, { try 3 * $0 }),
            ("x / 4", .normal, { try $0 / 4 }),
            ("4 / x", .awayFromZero, { try 4 / $0 }),
        ]
        try run(ops.map { name, domain, f in .unary(name, Arg(shape: [2, 3], domain: domain), f) })
    }

    func testPowersAndRoots() throws {
        let ops: [(String, Domain, (Tensor) throws -> Tensor)] = [
            ("pow(2)", .normal, { try $0.pow(2) }),
            ("pow(3)", .normal, { try $0.pow(3) }),
            ("pow(0.5)", .positive, { try $0.pow(0.5) }),
            ("pow(-1.5)", .positive, { try $0.pow(-1.5) }),
            ("pow(2.5)", .positive, { try $0.pow(2.5) }),
            ("reciprocal", .awayFromZero, { try $0.reciprocal() }),
            ("sqrt", .positive, { try $0.sqrt() }),
            ("square", .normal, { try $0.square() }),
        ]
        try run(ops.map { name, domain, f in .unary(name, Arg(shape: [2, 3], domain: domain), f) })
    }

    func testTranscendentalFunctions() throws {
        let ops: [(String, Domain, (Tensor) throws -> Tensor)] = [
            ("exp", .normal, { try $0.exp() }),
            ("log", .positive, { try $0.log() }),
            ("sin", .normal, { try $0.sin() }),
            ("cos", .normal, { try $0.cos() }),
            ("tanh", .normal, { try $0.tanh() }),
            ("sigmoid", .normal, { try $0.sigmoid() }),
        ]
        try run(ops.map { name, domain, f in .unary(name, Arg(shape: [3, 4], domain: domain), f) })
    }

    func testPiecewiseFunctions() throws {
        let unary: [(String, Domain, (Tensor) throws -> Tensor)] = [
            ("abs", .awayFromZero, { try $0.abs() }),
            ("relu", .awayFromZero, { try $0.relu() }),
            ("clamped(-0.55, 0.55)", .distinct, { try $0.clamped(min: -0.55, max: 0.55) }),
            ("clamped(-10, 0)", .distinct, { try $0.clamped(min: -10, max: 0) }),
        ]
        let binary: [(String, (Tensor, Tensor) throws -> Tensor)] = [
            ("maximum", { try $0.maximum($1) }), ("minimum", { try $0.minimum($1) }),
        ]
        let shapes: [([Int], [Int])] = [([3, 4], [3, 4]), ([3, 4], [4]), ([3, 1], [2, 1, 4])]
        var cases = unary.map { name, domain, f in GradCase.unary(name, Arg(shape: [3, 4], domain: domain), f) }
        for (name, op) in binary {
            for (a, b) in shapes {
                cases.append(GradCase("\(name) \(a) \(b)", [.distinct(a), .distinct(b)]) { try op($0[0], $0[1]) })
            }
        }
        try run(cases)
    }

    func testActivations() throws {
        let ops: [(String, (Tensor) throws -> Tensor)] = [
            ("gelu", { try $0.gelu() }), ("geluNew", { try $0.geluNew() }),
        ]
        // Wide inputs reach the tails as well as the curved middle.
        try run(ops.map { name, f in .unary(name, .normal([4, 5])) { try f($0.scaled(2)) } })
    }

    func testSoftmaxAndLogSoftmax() throws {
        let ops: [(String, (Tensor, Int) throws -> Tensor)] = [
            ("softmax", { try $0.softmax(axis: $1) }), ("logSoftmax", { try $0.logSoftmax(axis: $1) }),
        ]
        let layouts: [([Int], Int)] = [([5], -1), ([2, 3, 4], -1), ([2, 3, 4], 0), ([2, 3, 4], 1), ([3, 4], -2)]
        var cases: [GradCase] = []
        for (name, op) in ops {
            for (shape, axis) in layouts {
                cases.append(.unary("\(name) \(shape) axis \(axis)", .normal(shape)) { try op($0, axis) })
            }
            cases.append(.unary("\(name) of a transposed view", .normal([3, 4])) { try op($0.transposed(), -1) })
        }
        try run(cases)
    }

    func testLayerNorm() throws {
        let x = Arg.normal([2, 3, 4]), p = Arg.normal([4])
        try run([
            .unary("layerNorm x only", x) { try $0.layerNorm() },
            GradCase("layerNorm with weight", [x, p]) { try $0[0].layerNorm(weight: $0[1]) },
            GradCase("layerNorm with bias", [x, p]) { try $0[0].layerNorm(bias: $0[1]) },
            GradCase("layerNorm with weight and bias", [x, p, p]) { try $0[0].layerNorm(weight: $0[1], bias: $0[2]) },
            GradCase("layerNorm 2-D, large eps", [.normal([3, 5]), .normal([5]), .normal([5])]) {
                try $0[0].layerNorm(weight: $0[1], bias: $0[2], eps: 0.5)
            },
        ])
    }

    // MARK: - Reductions

    func testSumMeanVarianceNorm() throws {
        let ops: [(String, (Tensor) throws -> Tensor)] = [
            ("sum all", { try $0.sum() }),
            ("sum axes [0]", { try $0.sum(axes: [0]) }),
            ("sum axes [-1]", { try $0.sum(axes: [-1]) }),
            ("sum axes [1, 2] keepDims", { try $0.sum(axes: [1, 2], keepDims: true) }),
            ("sum axes [] (identity)", { try $0.sum(axes: []) }),
            ("mean all", { try $0.mean() }),
            ("mean axes [0, 2]", { try $0.mean(axes: [0, 2]) }),
            ("mean axes [1] keepDims", { try $0.mean(axes: [1], keepDims: true) }),
            ("variance all correction 1", { try $0.variance() }),
            ("variance axes [1] correction 0", { try $0.variance(axes: [1], correction: 0) }),
            ("variance axes [0, 2] correction 1 keepDims", { try $0.variance(axes: [0, 2], correction: 1, keepDims: true) }),
            ("norm all", { try $0.norm() }),
            ("norm axes [1]", { try $0.norm(axes: [1]) }),
            ("norm axes [0, -1] keepDims", { try $0.norm(axes: [0, -1], keepDims: true) }),
            ("summed(toShape: [3, 1])", { try $0.summed(toShape: [3, 1]) }),
            ("sum of a transposed view", { try $0.transposed(0, 2).sum(axes: [1]) }),
        ]
        try run(ops.map { name, f in .unary(name, .normal([2, 3, 4]), f) })
    }

    func testMaxMinAndLogSumExp() throws {
        let ops: [(String, Domain, (Tensor) throws -> Tensor)] = [
            ("max axis 0", .distinct, { try $0.max(axis: 0) }),
            ("max axis -1 keepDims", .distinct, { try $0.max(axis: -1, keepDims: true) }),
            ("max all", .distinct, { try $0.max() }),
            ("min axis 1", .distinct, { try $0.min(axis: 1) }),
            ("min axis 2 keepDims", .distinct, { try $0.min(axis: 2, keepDims: true) }),
            ("min all", .distinct, { try $0.min() }),
            ("max of a transposed view", .distinct, { try $0.transposed(0, 2).max(axis: 0) }),
            ("logSumExp axis -1", .normal, { try $0.logSumExp(axis: -1) }),
            ("logSumExp axis 0 keepDims", .normal, { try $0.logSumExp(axis: 0, keepDims: true) }),
            ("logSumExp axis 1 of large values", .normal, { try $0.scaled(50).logSumExp(axis: 1) }),
            ("cumulativeSum axis 1", .normal, { try $0.cumulativeSum(axis: 1) }),
            ("cumulativeSum axis -1", .normal, { try $0.cumulativeSum(axis: -1) }),
        ]
        try run(ops.map { name, domain, f in .unary(name, Arg(shape: [2, 3, 4], domain: domain), f) })
    }

    // MARK: - Products

    func testMatmul() throws {
        let mm: ([Tensor]) throws -> Tensor = { try $0[0].matmul($0[1]) }
        let shapes: [([Int], [Int])] = [
            ([3, 4], [4, 5]),            // 2-D
            ([2, 3, 4], [2, 4, 5]),      // batched
            ([2, 1, 3, 4], [3, 4, 5]),   // broadcast batch
            ([3, 4], [2, 4, 5]),         // matrix times a batch
            ([2, 3, 4], [4, 5]),         // batch times a matrix (folded into one gemm)
            ([4], [4, 5]), ([3, 4], [4]), ([4], [4]), ([2, 3, 4], [4]), ([4], [2, 4, 5]),   // vectors
            ([20, 12], [12, 14]),        // large enough for BLAS
        ]
        var cases = shapes.map { a, b in GradCase("matmul \(a) \(b)", [.normal(a), .normal(b)], mm) }
        cases += [
            GradCase("matmul aᵀ·b", [.normal([4, 3]), .normal([4, 5])]) { try $0[0].transposed().matmul($0[1]) },
            GradCase("matmul a·bᵀ", [.normal([3, 4]), .normal([5, 4])]) { try $0[0].matmul($0[1].transposed()) },
            GradCase("matmul batch · bᵀ (one folded gemm)", [.normal([2, 3, 4]), .normal([5, 4])]) {
                try $0[0].matmul($0[1].transposed())
            },
            GradCase("matmul aᵀ·bᵀ batched", [.normal([2, 4, 3]), .normal([2, 5, 4])]) {
                try $0[0].transposed().matmul($0[1].transposed())
            },
            GradCase("matmul aᵀ·bᵀ BLAS-sized", [.normal([12, 20]), .normal([14, 12])]) {
                try $0[0].transposed().matmul($0[1].transposed())
            },
            GradCase("matmul batch-transposed [b,m,k]ᵀ·[k,n]", [.normal([3, 2, 4]), .normal([4, 5])]) {
                try $0[0].transposed(0, 1).matmul($0[1])
            },
            GradCase("matmul of a stepped slice (copied for BLAS)", [.normal([3, 8]), .normal([4, 5])]) {
                try $0[0].slice(axis: 1, step: 2).matmul($0[1])
            },
            GradCase("matmul with an expanded operand", [.normal([1, 3, 4]), .normal([2, 4, 5])]) {
                try $0[0].expanded(to: [2, 3, 4]).matmul($0[1])
            },
            GradCase("matmul same tensor both sides", [.normal([4, 4])]) { try $0[0].matmul($0[0]) },
            GradCase("matmul scaled, batched", [.normal([2, 3, 4]), .normal([2, 4, 5])]) { try $0[0].matmul($0[1], scale: 0.37) },
            GradCase("matmul scaled, batch · matrix folded", [.normal([2, 3, 4]), .normal([4, 5])]) {
                try $0[0].matmul($0[1], scale: -1.5)
            },
            GradCase("matmul scaled, BLAS-sized", [.normal([20, 12]), .normal([12, 14])]) { try $0[0].matmul($0[1], scale: 0.25) },
        ]
        try run(cases)
    }

    func testOuterAndEinsum() throws {
        let einsums: [(String, [[Int]])] = [
            ("ij,jk->ik", [[3, 4], [4, 5]]),
            ("bij,bjk->bik", [[2, 3, 4], [2, 4, 5]]),
            ("bhqd,bhkd->bhqk", [[2, 2, 3, 4], [2, 2, 5, 4]]),
            ("ij,kj", [[3, 4], [5, 4]]),                 // implicit output "ik"
            ("ijx,jk->ik", [[3, 4, 2], [4, 5]]),         // x only in the first operand, summed
            ("ij,jky->ki", [[3, 4], [4, 5, 2]]),         // y only in the second operand, summed
            ("i,j->ij", [[3], [4]]),
            ("ij,ij->i", [[3, 4], [3, 4]]),
            ("ij,ij->", [[3, 4], [3, 4]]),
            ("bpd,dh->bph", [[2, 3, 4], [4, 5]]),
            ("bij,bjk->kib", [[2, 3, 4], [2, 4, 5]]),    // output in another order
            ("ij->ji", [[3, 4]]),
            ("ijk->j", [[2, 3, 4]]),
            ("ij->", [[3, 4]]),
        ]
        var cases = einsums.map { spec, shapes in
            GradCase("einsum \(spec)", shapes.map { .normal($0) }) { try Tensor.einsum(spec, $0) }
        }
        cases.append(GradCase("outer", [.normal([3]), .normal([4])]) { try $0[0].outer($0[1]) })
        try run(cases)
    }

    // MARK: - Shape and views

    func testReshapesAndPermutations() throws {
        // Each op with the shape it must give for a [2, 3, 4] input.
        let ops: [(String, [Int], (Tensor) throws -> Tensor)] = [
            ("reshaped [4, 6]", [4, 6], { try $0.reshaped([4, 6]) }),
            ("reshaped [-1]", [24], { try $0.reshaped([-1]) }),
            ("reshaped of a transposed view", [2, 12], { try $0.transposed().reshaped([2, 12]) }),
            ("flattened", [24], { try $0.flattened() }),
            ("flattened 1...2", [2, 12], { try $0.flattened(from: 1, through: 2) }),
            ("unsqueezed(0)", [1, 2, 3, 4], { try $0.unsqueezed(0) }),
            ("unsqueezed(1)", [2, 1, 3, 4], { try $0.unsqueezed(1) }),
            ("unsqueezed(-1)", [2, 3, 4, 1], { try $0.unsqueezed(-1) }),
            ("unsqueezed(-2)", [2, 3, 1, 4], { try $0.unsqueezed(-2) }),
            ("squeezed(1) after unsqueeze", [2, 3, 4], { try $0.unsqueezed(1).squeezed(1) }),
            ("squeezed() all", [2, 3, 4], { try $0.unsqueezed(0).unsqueezed(2).squeezed() }),
            ("permuted [2, 0, 1]", [4, 2, 3], { try $0.permuted([2, 0, 1]) }),
            ("transposed()", [2, 4, 3], { try $0.transposed() }),
            ("transposed(0, 2)", [4, 3, 2], { try $0.transposed(0, 2) }),
            ("expanded to [5, 2, 3, 4]", [5, 2, 3, 4], { try $0.expanded(to: [5, 2, 3, 4]) }),
            ("expanded after a size-1 slice", [2, 3, 4], { try $0.slice(axis: 1, start: 1, end: 2).expanded(to: [2, 3, 4]) }),
        ]
        let probe = try Tensor.zeros([2, 3, 4], dtype: .float64)
        for (name, shape, f) in ops { XCTAssertEqual(try f(probe).shape, shape, name) }
        try run(ops.map { name, _, f in .unary(name, .normal([2, 3, 4]), f) })
    }

    func testSliceAndSelect() throws {
        let ops: [(String, (Tensor) throws -> Tensor)] = [
            ("slice axis 1 1..<3", { try $0.slice(axis: 1, start: 1, end: 3) }),
            ("slice axis 0 -3..<-1", { try $0.slice(axis: 0, start: -3, end: -1) }),
            ("slice axis -1 step 2", { try $0.slice(axis: -1, step: 2) }),
            ("slice axis 1 from -4 step 3", { try $0.slice(axis: 1, start: -4, step: 3) }),
            ("slice out-of-range bounds clamp", { try $0.slice(axis: 0, start: -100, end: 100) }),
            ("slice of a slice", { try $0.slice(axis: 1, start: 1).slice(axis: 0, start: 1, end: 3, step: 2) }),
            ("slice of a transposed view", { try $0.transposed().slice(axis: 1, start: 1, end: 4, step: 2) }),
            ("select axis 0 index 1", { try $0.select(axis: 0, index: 1) }),
            ("select axis -1 index -1", { try $0.select(axis: -1, index: -1) }),
            ("select of a transposed view", { try $0.transposed().select(axis: 0, index: 2) }),
        ]
        try run(ops.map { name, f in .unary(name, .normal([4, 5]), f) })
    }

    // MARK: - Indexing

    func testGatherAndScatter() throws {
        let rows = try Tensor(ints: [2, 0, 2, -1], shape: [4])
        let grid = try Tensor(ints: [0, 2, 2, 2], shape: [2, 2])
        let along = try Tensor(ints: [1, 1, 0, 3, 3, 3], shape: [3, 2])
        let alongRows = try Tensor(ints: [2, 2, 0, 1], shape: [1, 4])
        let addRows = try Tensor(ints: [2, 0, 2], shape: [3])
        try run([
            .unary("indexSelect axis 0 repeated", .normal([3, 4])) { try $0.indexSelect(axis: 0, indices: rows) },
            .unary("indexSelect axis 1 with 2-D indices", .normal([3, 4])) { try $0.indexSelect(axis: 1, indices: grid) },
            .unary("indexSelect of a transposed view", .normal([4, 3])) { try $0.transposed().indexSelect(axis: 0, indices: rows) },
            .unary("takeAlong axis 1", .normal([3, 4])) { try $0.takeAlong(axis: 1, indices: along) },
            .unary("takeAlong axis 0", .normal([3, 4])) { try $0.takeAlong(axis: 0, indices: alongRows) },
            GradCase("scatteringAdd axis 1", [.normal([3, 4]), .normal([3, 2])]) {
                try $0[0].scatteringAdd(axis: 1, indices: along, source: $0[1])
            },
            GradCase("scatteringAdd with a transposed source", [.normal([3, 4]), .normal([2, 3])]) {
                try $0[0].scatteringAdd(axis: 1, indices: along, source: $0[1].transposed())
            },
            GradCase("indexAdd axis 0", [.normal([3, 4]), .normal([3, 4])]) {
                try $0[0].indexAdd(axis: 0, indices: addRows, source: $0[1])
            },
            GradCase("indexAdd axis 1", [.normal([4, 3]), .normal([4, 3])]) {
                try $0[0].indexAdd(axis: 1, indices: addRows, source: $0[1])
            },
            GradCase("indexAdd with a transposed source", [.normal([3, 4]), .normal([4, 3])]) {
                try $0[0].indexAdd(axis: 0, indices: addRows, source: $0[1].transposed())
            },
        ])
    }

    func testMasksAndWhere() throws {
        let mask = try Tensor([1, 0, 1, 1, 0, 0], shape: [2, 3])
        let rowMask = try Tensor([0, 1, 1], shape: [3])
        let columnMask = try Tensor([1, 0], shape: [2, 1])
        try run([
            .unary("maskedSelect", .normal([2, 3])) { try $0.maskedSelect(mask) },
            .unary("maskedSelect broadcast mask", .normal([2, 3])) { try $0.maskedSelect(rowMask) },
            .unary("maskedSelect of a transposed view", .normal([3, 2])) { try $0.transposed().maskedSelect(mask) },
            GradCase("where [2,3] [2,3] [2,3]", [.normal([2, 3]), .normal([2, 3])]) { try Tensor.where(mask, $0[0], $0[1]) },
            GradCase("where broadcast values [2,3] [3]", [.normal([2, 3]), .normal([3])]) { try Tensor.where(mask, $0[0], $0[1]) },
            GradCase("where broadcast condition [2,1] [1,3] [2,3]", [.normal([1, 3]), .normal([2, 3])]) {
                try Tensor.where(columnMask, $0[0], $0[1])
            },
            GradCase("where same tensor both branches", [.normal([2, 3])]) { try Tensor.where(mask, $0[0], $0[0].scaled(3)) },
        ])
    }

    func testConcatAndStack() throws {
        // Each case with the shape it must give.
        let cases: [([Int], GradCase)] = [
            ([2, 6], GradCase("concat axis 1", [.normal([2, 3]), .normal([2, 1]), .normal([2, 2])]) { try Tensor.concat($0, axis: 1) }),
            ([3, 3], GradCase("concat axis 0", [.normal([1, 3]), .normal([2, 3])]) { try Tensor.concat($0, axis: 0) }),
            ([2, 2, 4], GradCase("concat axis -1 rank 3", [.normal([2, 2, 1]), .normal([2, 2, 3])]) { try Tensor.concat($0, axis: -1) }),
            ([4, 3], GradCase("concat same tensor twice", [.normal([2, 3])]) { try Tensor.concat([$0[0], $0[0]], axis: 0) }),
            ([2, 5], GradCase("concat with a transposed view", [.normal([3, 2]), .normal([2, 2])]) {
                try Tensor.concat([$0[0].transposed(), $0[1]], axis: 1)
            }),
            ([2, 2, 3], GradCase("stack axis 0", [.normal([2, 3]), .normal([2, 3])]) { try Tensor.stack($0, axis: 0) }),
            ([2, 3, 3], GradCase("stack axis 1", [.normal([2, 3]), .normal([2, 3]), .normal([2, 3])]) { try Tensor.stack($0, axis: 1) }),
            ([2, 3, 2], GradCase("stack axis -1", [.normal([2, 3]), .normal([2, 3])]) { try Tensor.stack($0, axis: -1) }),
        ]
        for (shape, c) in cases {
            let probe = try c.args.map { try Tensor.zeros($0.shape, dtype: .float64) }
            XCTAssertEqual(try c.f(probe).shape, shape, c.name)
        }
        try run(cases.map(\.1))
    }

    // MARK: - Copies and casts

    func testCastsAndCopies() throws {
        // Through float32 the function is rounded to ~1e-7, so the step and
        // tolerance are wider there.
        let ops: [(String, Bool, (Tensor) throws -> Tensor)] = [
            ("cast f64→f32→f64", true, { try $0.cast(to: .float32).cast(to: .float64) }),
            ("tanh in float32", true, { try $0.cast(to: .float32).tanh().cast(to: .float64) }),
            ("f32 · f64 promotes to f64", true, { try $0.cast(to: .float32) * $0 }),
            ("clone", false, { $0.clone() }),
            ("clone of a transposed view", false, { try $0.transposed().clone() }),
            ("contiguous on a transposed view", false, { try $0.transposed().contiguous() }),
            ("contiguous on a stepped slice", false, { try $0.slice(axis: 1, step: 2).contiguous() }),
        ]
        try run(ops.map { name, throughFloat32, f in
            .unary(name, .normal([3, 4]), tolerance: throughFloat32 ? 1e-4 : 1e-6, step: throughFloat32 ? 1e-3 : 1e-6, f)
        })
    }
}
