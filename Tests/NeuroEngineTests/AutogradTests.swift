import XCTest
import NeuroTestSupport
@testable import NeuroEngine

/// Behaviour of the autograd machinery itself: accumulation, zeroing, frozen
/// parameters, no-grad mode, detaching, retained intermediate gradients,
/// shared subgraphs, deep graphs and the errors for misuse.
final class AutogradTests: XCTestCase {
    private func leaf(_ values: [Double], _ shape: [Int]) throws -> Tensor {
        try Tensor(float64: values, shape: shape).requiringGrad()
    }

    func testGradientsAccumulateAcrossBackwardCalls() throws {
        let x = try leaf([1, -2, 3], [3])
        let y = try (x * x).sum()
        try y.backward(retainGraph: true)
        assertClose(x.grad!.toDoubles(), [2, -4, 6])
        try y.backward()                         // same graph again: adds 2x
        assertClose(x.grad!.toDoubles(), [4, -8, 12])
        try x.scaled(10).sum().backward()        // a new graph: adds 10
        assertClose(x.grad!.toDoubles(), [14, 2, 22])
    }

    /// `gradients(of:)` gives the gradient with respect to the inputs asked
    /// for (zeros for one not on the path) and leaves every `grad` alone,
    /// the inputs' and the other parameters' alike.
    func testGradientsOfInputsLeaveEveryGradAlone() throws {
        let x = try leaf([1, -2, 3], [3]), w = try leaf([2, 2, 2], [3]), unused = try leaf([5], [1])
        let y = try (x * x * w).sum()
        let (gx, gUnused) = try { let g = try y.gradients(of: [x, unused]); return (g[0], g[1]) }()
        assertClose(gx.toDoubles(), [4, -8, 12])
        assertClose(gUnused.toDoubles(), [0])
        XCTAssertNil(x.grad)
        XCTAssertNil(w.grad)
        XCTAssertThrowsError(try Tensor(float64: [1], shape: [1]).gradients(of: [x]))
    }

    func testZeroGradKeepsTheBufferAndZeroesIt() throws {
        let x = try leaf([1, 2, 3], [3])
        try x.square().sum().backward()
        let buffer = try XCTUnwrap(x.grad)
        x.zeroGrad()
        XCTAssertTrue(x.grad === buffer, "zeroGrad replaced the gradient buffer")
        XCTAssertEqual(buffer.toDoubles(), [0, 0, 0])
        try x.scaled(3).sum().backward()
        XCTAssertTrue(x.grad === buffer, "backward after zeroGrad replaced the buffer")
        assertClose(buffer.toDoubles(), [3, 3, 3])
        x.zeroGrad(keepBuffer: false)
        XCTAssertNil(x.grad)
    }

    func testFrozenParametersGetNoGradient() throws {
        let x = try leaf([1, 2], [2])
        let w = try leaf([3, 4], [2]).requiringGrad(false)
        XCTAssertFalse(w.requiresGrad)
        try (x * w).sum().backward()
        XCTAssertNil(w.grad)
        assertClose(x.grad!.toDoubles(), [3, 4])
        // With every input frozen nothing is recorded.
        let frozen = try w * w
        XCTAssertFalse(frozen.requiresGrad)
        XCTAssertTrue(frozen.isLeaf)
    }

    func testNoGradModeRecordsNothing() throws {
        let x = try leaf([1, 2], [2])
        let y = try GradMode.withNoGrad {
            XCTAssertFalse(GradMode.isEnabled)
            return try x.exp().matmul(x)
        }
        XCTAssertTrue(GradMode.isEnabled)
        XCTAssertFalse(y.requiresGrad)
        XCTAssertTrue(y.isLeaf)
        // withGrad re-enables recording inside withNoGrad.
        let z = try GradMode.withNoGrad { try GradMode.withGrad { try x * 2 } }
        XCTAssertTrue(z.requiresGrad)
        // The mode is restored when the body throws.
        XCTAssertThrowsError(try GradMode.withNoGrad { try x.reshaped([3]) })
        XCTAssertTrue(GradMode.isEnabled)
    }

    func testDetachedCutsTheGraph() throws {
        let x = try leaf([1, 2, 3], [3])
        let d = x.detached()
        XCTAssertFalse(d.requiresGrad)
        XCTAssertEqual(d.toDoubles(), x.toDoubles())
        try (d * x).sum().backward()             // only the attached factor counts
        assertClose(x.grad!.toDoubles(), [1, 2, 3])
    }

    func testRetainsGradKeepsAnIntermediateGradient() throws {
        let x = try leaf([1, 2], [2])
        let h = try x.scaled(2)
        h.retainsGrad = true
        let other = try h.shifted(1)
        try (other * h).sum().backward()           // d/dh (h+1)·h = 2h + 1
        assertClose(h.grad!.toDoubles(), [5, 9])
        XCTAssertNil(other.grad, "an intermediate without retainsGrad kept its gradient")
        assertClose(x.grad!.toDoubles(), [10, 18])
    }

    func testSharedSubgraphsSumEveryPath() throws {
        let x = try leaf([0.5, -1], [2])
        // x feeds two branches that meet again: d/dx exp(x)·sin(x) = exp(x)(sin x + cos x).
        try (x.exp() * x.sin()).sum().backward()
        let expected = x.toDoubles().map { exp($0) * (sin($0) + cos($0)) }
        assertClose(x.grad!.toDoubles(), expected)
        // An intermediate used three times: a = 2x, y = (a + a)·a = 8x², dy/dx = 16x.
        let z = try leaf([0.5, -1], [2])
        let a = try z.scaled(2)
        try ((a + a) * a).sum().backward()
        assertClose(z.grad!.toDoubles(), [8, -16])
    }

    func testDeepChainBackpropagatesWithoutRecursion() throws {
        let x = try Tensor(scalar: 1.5, dtype: .float64).requiringGrad()
        let started = Date()
        var y = x
        for i in 0..<100_000 { y = i.isMultiple(of: 2) ? try y.shifted(0) : try y.scaled(1) }
        try y.scaled(3).backward()
        XCTAssertEqual(try XCTUnwrap(x.grad).item(), 3)
        XCTAssertLessThan(Date().timeIntervalSince(started), 30, "100,000-op backward is too slow")
    }

    func testDeepGraphIsFreedWithoutRecursion() throws {
        // Dropping a long recorded chain that was never backpropagated must not
        // overflow the stack by releasing one node inside the next.
        let x = try Tensor(scalar: 1, dtype: .float64).requiringGrad()
        var y = x
        for _ in 0..<100_000 { y = try y.shifted(0) }
        y = x
        XCTAssertTrue(y === x)
    }

    func testUnusedGraphsAreFreed() throws {
        // A recorded result that is dropped without backward must be freed
        // with its graph: no backward closure may keep its own output alive.
        let x = try leaf([0.5, 1, 2, 3], [2, 2])
        let ops: [(String, (Tensor) throws -> Tensor)] = [
            ("exp", { try $0.exp() }), ("log", { try $0.log() }), ("sqrt", { try $0.sqrt() }),
            ("reciprocal", { try $0.reciprocal() }), ("tanh", { try $0.tanh() }), ("sigmoid", { try $0.sigmoid() }),
            ("relu", { try $0.relu() }), ("gelu", { try $0.gelu() }), ("div", { try $0 / $0.shifted(1) }),
            ("softmax", { try $0.softmax() }), ("logSoftmax", { try $0.logSoftmax() }),
            ("layerNorm", { try $0.layerNorm() }), ("norm", { try $0.norm() }), ("max", { try $0.max(axis: 0) }),
            ("matmul", { try $0.matmul($0) }), ("einsum", { try Tensor.einsum("ij,jk->ik", $0, $0) }),
            ("maximum", { try $0.maximum($0.scaled(0.5)) }), ("where", { try Tensor.where($0, $0, $0.square()) }),
            ("indexSelect", { try $0.indexSelect(axis: 0, indices: Tensor(ints: [1, 0], shape: [2])) }),
            ("concat", { try Tensor.concat([$0, $0], axis: 0) }), ("slice", { try $0.slice(axis: 1, start: 1) }),
        ]
        for (name, op) in ops {
            weak var output: Tensor?
            try { output = try op(x) }()
            XCTAssertNil(output, "\(name): the result of a dropped graph is still alive")
        }
    }

    func testGradientsKeepTheLeafDtype() throws {
        let a = try Tensor([1, 2, 3], shape: [3]).requiringGrad()                  // float32
        let b = try leaf([4, 5, 6], [3])                                          // float64
        let base = try leaf([0, 0, 0, 0], [2, 2])
        let rows = try Tensor(ints: [1, 1], shape: [2])
        let source = try Tensor([1, 2, 3, 4], shape: [2, 2]).requiringGrad()       // float32
        try ((a * b).sum() + base.indexAdd(axis: 0, indices: rows, source: source).sum()).backward()
        XCTAssertEqual(a.grad?.dtype, .float32)
        XCTAssertEqual(b.grad?.dtype, .float64)
        XCTAssertEqual(source.grad?.dtype, .float32)
        XCTAssertEqual(base.grad?.dtype, .float64)
        assertClose(a.grad!.toDoubles(), [4, 5, 6])
        assertClose(source.grad!.toDoubles(), [1, 1, 1, 1])
    }

    func testMisuseThrowsClearErrors() throws {
        let x = try leaf([1, 2, 3], [3])
        let recorded = try x.scaled(2)
        let misuses: [(String, () throws -> Void)] = [
            ("needs a seed gradient for a non-scalar output of shape [3]", { try recorded.backward() }),
            ("backward seed: incompatible shapes [2] and [3]", { try recorded.backward(seed: Tensor([1, 1], shape: [2])) }),
            ("does not require grad", { try Tensor(float64: [1], shape: [1]).backward() }),
            ("does not require grad", { try GradMode.withNoGrad { try x.sum() }.backward() }),
            ("gradients need a floating-point tensor, got I64", { try Tensor(ints: [1, 2], shape: [2]).requiringGrad() }),
            ("gradients need a floating-point tensor, got I32", { try Tensor(ints: [1], shape: [1], dtype: .int32).requiringGrad() }),
            ("can only be set on a leaf tensor, not on the result of 'mul scalar'", { try recorded.requiringGrad(false) }),
            ("cannot modify the result of 'mul scalar' in place", { try recorded.addInPlace(x) }),
            ("cannot modify the result of 'mul scalar' in place", { try recorded.assign(x) }),
        ]
        for (fragment, body) in misuses { assertThrows(fragment, body) }
        // Seeded backward of a non-scalar works, and freezing an integer tensor is allowed.
        try recorded.backward(seed: Tensor(float64: [1, 10, 100], shape: [3]))
        assertClose(x.grad!.toDoubles(), [2, 20, 200])
        XCTAssertFalse(try Tensor(ints: [1], shape: [1]).requiringGrad(false).requiresGrad)
    }
}
