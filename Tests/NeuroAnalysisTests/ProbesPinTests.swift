import XCTest
import NeuroEngine
import NeuroModels
import NeuroAnalysis

/// A short logistic-probe fit pinned to the numbers the probe gave before it
/// trained through the shared training loop (recorded once from that code).
final class ProbesPinTests: XCTestCase {
    func testLogisticProbeRun() throws {
        var rng = RandomGenerator(seed: 11)
        let x = try Tensor.randn([40, 3], std: 1, using: &rng)
        let first = x.toDoubles().enumerated().filter { $0.offset % 3 == 0 }.map(\.element)
        let labels = try Tensor(ints: first.map { $0 > -0.3 ? 1 : 0 }, shape: [40])
        let probe = try LogisticProbe(x: x, labels: labels, holdout: 0.25, seed: 2, steps: 12, learningRate: 0.1, weightDecay: 0.01)
        XCTAssertEqual(probe.trainLoss, 0.23598196894310347, accuracy: 1e-5)
        let expected = [-1.2790540493555318, 1.2790540493555318, 0.13125254579461745, -0.13125254579461745,
                        -0.09907459238787475, 0.09907459238787475]
        for (w, e) in zip(probe.weights.toDoubles(), expected) { XCTAssertEqual(w, e, accuracy: 1e-4) }
        for (b, e) in zip(probe.bias.toDoubles(), [-0.5265920442762698, 0.5265920442762698]) { XCTAssertEqual(b, e, accuracy: 1e-4) }
    }
}
