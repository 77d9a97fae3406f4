import XCTest
import NeuroTestSupport
import NeuroEngine
import NeuroModels
@testable import NeuroAnalysis

/// Seeded standard-normal samples [rows, columns] as Float64 values.
func normalSamples(_ rows: Int, _ columns: Int, seed: UInt64) -> [Double] {
    var rng = RandomGenerator(seed: seed)
    return (0..<(rows * columns)).map { _ in rng.nextNormal() }
}

final class ProbesTests: XCTestCase {
    func testHoldoutSplitIsSeededDisjointAndComplete() throws {
        let cases: [(count: Int, holdout: Double, test: Int)] = [(100, 0.2, 20), (10, 0, 0), (7, 0.5, 4), (3, 0.3, 1)]
        for c in cases {
            let split = try HoldoutSplit(count: c.count, holdout: c.holdout, seed: 3)
            XCTAssertEqual(split.test.count, c.test)
            XCTAssertEqual(Set(split.train + split.test), Set(0..<c.count))
            XCTAssertEqual(split, try HoldoutSplit(count: c.count, holdout: c.holdout, seed: 3))
        }
        XCTAssertNotEqual(try HoldoutSplit(count: 100, holdout: 0.2, seed: 1), try HoldoutSplit(count: 100, holdout: 0.2, seed: 2))
        for bad in [-0.1, 1, .nan] { XCTAssertThrowsError(try HoldoutSplit(count: 10, holdout: bad, seed: 0)) }
        XCTAssertThrowsError(try HoldoutSplit(count: 2, holdout: 0.5, seed: 0))
    }

    func testLinearProbeRecoversAPlantedTargetAndFailsOnNoise() throws {
        let (n, f) = (400, 6)
        let x = try Tensor(float64: normalSamples(n, f, seed: 1), shape: [n, f])
        let w: [Double] = [2, -1, 0, 0.5, 3, 0]
        let values = x.toDoubles()
        let planted = (0..<n).map { i in (0..<f).reduce(7.0) { $0 + w[$1] * values[i * f + $1] } }
        let cases: [(name: String, y: [Double], train: ClosedRange<Double>, test: ClosedRange<Double>)] = [
            ("planted", planted, 0.999999...1.000001, 0.999999...1.000001),
            ("noise", normalSamples(n, 1, seed: 9), 0...0.1, -0.2...0.1),
        ]
        for c in cases {
            let probe = try LinearProbe(x: x, y: Tensor(float64: c.y, shape: [n]), holdout: 0.25, seed: 0)
            XCTAssertTrue(c.train.contains(probe.trainR2), "\(c.name): train R² \(probe.trainR2)")
            XCTAssertTrue(c.test.contains(probe.testR2 ?? .nan), "\(c.name): test R² \(String(describing: probe.testR2))")
            XCTAssertEqual(probe.split.test.count, 100)
        }
        let probe = try LinearProbe(x: x, y: Tensor(float64: planted, shape: [n]), holdout: 0.2, seed: 4)
        assertClose(probe.weights.toDoubles(), w, rtol: 0, atol: 1e-9)
        XCTAssertEqual(try probe.bias.item(), 7, accuracy: 1e-9)
        assertClose(try probe.predict(x).toDoubles(), planted, rtol: 0, atol: 1e-9)
        XCTAssertNil(try LinearProbe(x: x, y: Tensor(float64: planted, shape: [n]), holdout: 0).testR2)
    }

    func testLinearProbeWithSeveralTargetsAndActivationsWithLeadingDimensions() throws {
        // Activations [20, 5, 3]: 100 samples of 3 features; targets [100, 2].
        let x = try Tensor(float64: normalSamples(100, 3, seed: 2), shape: [20, 5, 3])
        let v = x.toDoubles()
        var y: [Double] = []
        for i in 0..<100 { y += [v[i * 3] - v[i * 3 + 2], 4 * v[i * 3 + 1] + 1] }
        let probe = try LinearProbe(x: x, y: Tensor(float64: y, shape: [100, 2]), holdout: 0.2, seed: 0)
        XCTAssertEqual(probe.weights.shape, [3, 2])
        XCTAssertEqual(probe.testR2 ?? 0, 1, accuracy: 1e-9)
        XCTAssertThrowsError(try LinearProbe(x: x, y: Tensor(float64: [1, 2, 3], shape: [3])))
    }

    func testLogisticProbeSeparatesSeparableClasses() throws {
        // Three well separated blobs in 4-d, labels 0, 1, 2; and labels unrelated to the inputs.
        let n = 300
        let noise = normalSamples(n, 4, seed: 5)
        let centers: [[Double]] = [[6, 0, 0, 0], [0, 6, 0, 0], [0, 0, -6, 6]]
        var values: [Double] = [], labels: [Int] = []
        for i in 0..<n {
            values += (0..<4).map { centers[i % 3][$0] + noise[i * 4 + $0] }
            labels.append(i % 3)
        }
        var rng = RandomGenerator(seed: 8)
        let cases: [(name: String, labels: [Int], test: ClosedRange<Double>)] = [
            ("separable", labels, 1...1),
            ("random", (0..<n).map { _ in rng.nextInt(below: 2) }, 0.2...0.75),
        ]
        let x = try Tensor(float64: values, shape: [n, 4])
        for c in cases {
            let probe = try LogisticProbe(x: x, labels: Tensor(ints: c.labels, shape: [n]), holdout: 0.2, seed: 0, steps: 200)
            XCTAssertTrue(c.test.contains(probe.testAccuracy ?? .nan), "\(c.name): held-out accuracy \(String(describing: probe.testAccuracy))")
            XCTAssertEqual(probe.classes, Set(c.labels).count)
        }
        let probe = try LogisticProbe(x: x, labels: Tensor(ints: labels, shape: [n]), holdout: 0.2, seed: 0, steps: 200)
        XCTAssertEqual(probe.trainAccuracy, 1)
        XCTAssertEqual(try probe.predict(x).toInts(), labels)
        XCTAssertThrowsError(try LogisticProbe(x: x, labels: Tensor(float64: [Double](repeating: 0.5, count: n), shape: [n])))
    }
}
