import XCTest
import NeuroEngine
@testable import NeuroModels

/// Linear regression: the smallest trainable that is not a transformer.
final class LinearRegression: Trainable {
    let w: Tensor, b: Tensor
    init() throws {
        w = try Tensor.zeros([2, 1]).requiringGrad()                         // [features, 1]
        b = try Tensor.zeros([1]).requiringGrad()
    }
    var parameters: [NamedParameter] { [NamedParameter("w", w), NamedParameter("b", b)] }
    /// Mean squared error of x·w + b against y, on a batch [x, y, …].
    func loss(on batch: Batch) throws -> Tensor {
        try (batch[0].matmul(w) + b - batch[1]).square().mean()
    }
    var weights: [Float] { w.toFloats() + b.toFloats() }
}

final class TrainingLoopTests: XCTestCase {
    /// x [n, 2] standard normal, y = x·(2, −3) + 0.5 exactly, and the row numbers.
    func regression(rows n: Int = 10) throws -> Batch {
        var rng = RandomGenerator(seed: 4)
        let x = try Tensor.randn([n, 2], using: &rng)
        let values = x.toFloats()
        let y: [Float] = (0..<n).map { (row: Int) -> Float in
            let (a, b) = (values[2 * row], values[2 * row + 1])
            return 2 * a - 3 * b + 0.5
        }
        return try Batch([x, Tensor(y, shape: [n, 1]), Tensor(ints: Array(0..<n), shape: [n])])
    }

    func makeLoop(_ model: LinearRegression, _ batches: BatchSource, lr: Double = 0.1,
              seen: ((Batch) -> Void)? = nil) throws -> TrainingLoop {
        try TrainingLoop(optimizer: SGD(parameters: model.parameters, learningRate: lr), batches: batches) { batch in
            seen?(batch)
            return try model.loss(on: batch)
        }
    }

    func testFullBatchGradientDescentFindsTheLeastSquaresSolution() throws {
        let model = try LinearRegression()
        let loop = try TrainingLoop(model: model, optimizer: SGD(parameters: model.parameters, learningRate: 0.1),
                                    batches: .full(regression()))
        XCTAssertEqual(try loop.train(epochs: 400), .completed)
        XCTAssertEqual(loop.history.epochs, Array(1...400))
        XCTAssertEqual(loop.step, 400)
        for (found, expected) in zip(model.weights, [2, -3, 0.5] as [Float]) { XCTAssertEqual(found, expected, accuracy: 1e-4) }
        XCTAssertLessThan(loop.history.trainLoss.last!, 1e-8)
        // No evaluation was given: nothing is claimed about a test set.
        XCTAssertTrue(loop.history.testLoss.allSatisfy(\.isNaN))
    }

    func testMinibatchesVisitEveryRowOnceAnEpochInAnOrderSetBySeed() throws {
        func run(seed: UInt64) throws -> (rows: [[Int]], losses: [Double], history: TrainingHistory, weights: [Float]) {
            let model = try LinearRegression()
            var rows: [[Int]] = [], losses: [Double] = []
            let loop = try makeLoop(model, .minibatches(regression(), size: 4, seed: seed)) { batch in
                rows.append(batch[2].toInts())
                losses.append((try? model.loss(on: batch).item()) ?? .nan)
            }
            XCTAssertEqual(loop.batches.stepsPerEpoch, 3)
            XCTAssertEqual(try loop.train(epochs: 4), .completed)
            XCTAssertEqual(loop.step, 12)
            return (rows, losses, loop.history, model.weights)
        }
        let first = try run(seed: 9)
        XCTAssertEqual(first.rows.map(\.count), [4, 4, 2, 4, 4, 2, 4, 4, 2, 4, 4, 2])
        let epochs = (0..<4).map { e in Array(first.rows[(3 * e)..<(3 * e + 3)].joined()) }
        for order in epochs { XCTAssertEqual(order.sorted(), Array(0..<10)) }
        XCTAssertNotEqual(epochs[0], epochs[1], "a fresh order each epoch")
        // An epoch's training loss is the mean of its steps' losses.
        XCTAssertEqual(first.history.trainLoss[1], first.losses[3..<6].reduce(0, +) / 3, accuracy: 1e-12)

        let again = try run(seed: 9)
        XCTAssertEqual(again.rows, first.rows)
        XCTAssertEqual(again.weights, first.weights)
        XCTAssertEqual(again.history.trainLoss, first.history.trainLoss)
        XCTAssertNotEqual(try run(seed: 10).rows, first.rows)
    }

    func testAStopRequestEndsAtTheNextStepWithTheHistoryKept() throws {
        let straight = try LinearRegression()
        try makeLoop(straight, .minibatches(regression(), size: 4, seed: 1)).train(epochs: 3)

        let model = try LinearRegression()
        let loop = try makeLoop(model, .minibatches(regression(), size: 4, seed: 1))
        var polls = 0
        // Polled after every step: the fifth poll comes after step 5, inside epoch 2.
        let outcome = try loop.train(epochs: 3, shouldStop: { polls += 1; return polls == 5 })
        XCTAssertEqual(outcome, .interrupted(epoch: 1))
        XCTAssertEqual(loop.step, 5)
        XCTAssertEqual(loop.history.epochs, [1])
        XCTAssertEqual(outcome.stopNote, "(interrupted at epoch 1)")
        // Continuing finishes epoch 2 where it stopped, then epoch 3: the run a straight one makes.
        XCTAssertEqual(try loop.train(epochs: 2), .completed)
        XCTAssertEqual(loop.step, 9)
        XCTAssertEqual(loop.history.epochs, [1, 2, 3])
        XCTAssertEqual(model.weights, straight.weights)
    }

    func testANonFiniteLossInTheFirstEpochKeepsTheStartingWeights() throws {
        let model = try LinearRegression()
        // A step this large sends the weights to ~1e30, whose squared error overflows Float32.
        let loop = try makeLoop(model, .full(regression()), lr: 1e30)
        let outcome = try loop.train(epochs: 5)
        XCTAssertEqual(outcome, .diverged(epoch: 1))
        XCTAssertEqual(loop.epoch, 0)
        XCTAssertEqual(loop.step, 0)
        XCTAssertEqual(loop.history.count, 0)
        XCTAssertEqual(model.weights, [0, 0, 0])
        XCTAssertEqual(loop.divergence?.step, 2)
        XCTAssertFalse(loop.divergence?.loss.isFinite ?? true)
        XCTAssertEqual(outcome.withoutEpochs, "training stopped in epoch 1: after its step the loss was NaN or infinite, "
                       + "so no epoch is recorded and the weights are as they were before it (try a smaller lr)")
    }

    func testANonFiniteLossLaterUndoesTheEpochThatCausedIt() throws {
        let model = try LinearRegression()
        var calls = 0
        // The loss turns NaN at the fourth forward pass (after the step of epoch 3).
        let loop = try TrainingLoop(optimizer: SGD(parameters: model.parameters, learningRate: 0.1), batches: .full(regression())) { batch in
            calls += 1
            let loss = try model.loss(on: batch)
            return calls == 4 ? try loss * Double.nan : loss
        }
        loop.checkpointEvery = 1
        let afterTwo = try LinearRegression()
        try makeLoop(afterTwo, .full(regression())).train(epochs: 2)
        XCTAssertEqual(try loop.train(epochs: 6), .diverged(epoch: 3))
        XCTAssertEqual(loop.epoch, 2)
        XCTAssertEqual(loop.history.epochs, [1, 2])
        XCTAssertEqual(loop.checkpoints.map(\.epoch), [0, 1, 2])
        XCTAssertEqual(model.weights, afterTwo.weights)
        XCTAssertEqual(TrainingOutcome.diverged(epoch: 3).stopNote,
                       "(stopped: loss became NaN or infinite at epoch 3; kept the last good weights)")
    }

    func testOverlappedEvaluationRecordsTheSequentialNumbers() throws {
        func run(overlapped: Bool) throws -> TrainingLoop {
            let model = try LinearRegression()
            let test = try regression(rows: 6)
            let loop = try makeLoop(model, .minibatches(regression(), size: 3, seed: 2))
            loop.evaluate = { TrainingEvaluation(loss: try GradMode.withNoGrad { try model.loss(on: test).item() }, accuracy: 0) }
            loop.overlapsEvaluation = overlapped
            loop.checkpointEvery = 2
            var reported: [Int] = []
            try loop.train(epochs: 5) { reported.append($0.epoch) }
            XCTAssertEqual(reported, [1, 2, 3, 4, 5])
            return loop
        }
        let (sequential, overlapped) = (try run(overlapped: false), try run(overlapped: true))
        XCTAssertEqual(overlapped.history, sequential.history)
        XCTAssertTrue(sequential.history.testLoss.allSatisfy(\.isFinite))
        XCTAssertEqual(overlapped.checkpoints.map(\.epoch), [0, 2, 4])
        XCTAssertEqual(overlapped.checkpoints[2].weights.map { $0.1.toFloats() }, sequential.checkpoints[2].weights.map { $0.1.toFloats() })
    }

    /// Mean squared error and the fraction of rows predicted within 1 of y.
    func evaluation(_ model: LinearRegression, _ rows: Batch) throws -> TrainingEvaluation {
        try GradMode.withNoGrad {
            let errors = try (rows[0].matmul(model.w) + model.b - rows[1]).toFloats()
            return TrainingEvaluation(loss: try model.loss(on: rows).item(),
                                      accuracy: Double(errors.filter { abs($0) < 1 }.count) / Double(errors.count))
        }
    }

    func testSharedEvaluationByHalvesGivesTheWholeBatchNumbers() throws {
        // Odd row counts: the halves weigh 5/11 and 6/11 of the training
        // loss, 3/7 and 4/7 of the evaluation.
        func run(shared: Bool, trainRows: Int = 11) throws -> (TrainingLoop, LinearRegression) {
            let model = try LinearRegression()
            try model.b.requiringGrad(false)                                   // a frozen parameter stays as it is
            let test = try regression(rows: 7)
            let loop = try makeLoop(model, .full(regression(rows: trainRows)), lr: 0.3)
            if shared {
                loop.sharedEvaluation = SharedEvaluation(batch: test) { try self.evaluation(model, $0) }
            } else {
                loop.evaluate = { try self.evaluation(model, test) }
            }
            loop.checkpointEvery = 2
            var reported: [Int] = []
            try loop.train(epochs: 3) { reported.append($0.epoch) }
            try loop.train(epochs: 2) { reported.append($0.epoch) }
            XCTAssertEqual(reported, [1, 2, 3, 4, 5])
            return (loop, model)
        }
        let ((whole, wholeModel), (halves, halvesModel)) = (try run(shared: false), try run(shared: true))
        XCTAssertEqual(halves.history.epochs, [1, 2, 3, 4, 5])
        for (a, b) in zip(halves.history.trainLoss + halves.history.testLoss, whole.history.trainLoss + whole.history.testLoss) {
            XCTAssertEqual(a, b, accuracy: 1e-5 * abs(b))
        }
        XCTAssertEqual(halves.history.testAccuracy, whole.history.testAccuracy)
        XCTAssertTrue(Set(whole.history.testAccuracy).count > 1, "the accuracy moves, so the halves' counts are checked")
        for (a, b) in zip(halvesModel.weights, wholeModel.weights) { XCTAssertEqual(a, b, accuracy: 1e-5) }
        XCTAssertNotEqual(halvesModel.w.toFloats(), [0, 0])
        XCTAssertEqual(halvesModel.b.toFloats(), [0])
        XCTAssertNil(halvesModel.b.grad)
        XCTAssertEqual(halves.checkpoints.map(\.epoch), [0, 2, 4])

        // One training row cannot be halved: the evaluation still runs, whole, beside the step.
        let (single, singleModel) = try run(shared: true, trainRows: 1)
        XCTAssertEqual(single.history.count, 5)
        XCTAssertEqual(single.history.testLoss.last!, try evaluation(singleModel, regression(rows: 7)).loss, accuracy: 1e-6)
    }

    func testGeneratedBatchesAreMadeForEveryStep() throws {
        let model = try LinearRegression()
        let data = try regression()
        var asked: [Int] = []
        let loop = try makeLoop(model, .generated(stepsPerEpoch: 2) { step in asked.append(step); return data })
        try loop.train(epochs: 2)
        try loop.train(epochs: 1)
        XCTAssertEqual(asked, [1, 2, 3, 4, 5, 6])
        XCTAssertEqual(loop.history.epochs, [1, 2, 3])
    }

    func testBadBatchesAndLossesAreRefused() throws {
        XCTAssertThrowsError(try Batch([Tensor.zeros([3, 2]), Tensor.zeros([4])])) { error in
            XCTAssertEqual("\(error)", "batch: tensor 1 has shape [4]; every tensor must have 3 rows (first axis) like tensor 0 [3, 2]")
        }
        let model = try LinearRegression()
        XCTAssertThrowsError(try makeLoop(model, .minibatches(regression(), size: 0, seed: 0))) { error in
            XCTAssertEqual("\(error)", "train: the minibatch size must be 1 or more, got 0")
        }
        let notScalar = try TrainingLoop(optimizer: SGD(parameters: model.parameters, learningRate: 0.1), batches: .full(regression())) {
            try $0[0].matmul(model.w)
        }
        XCTAssertThrowsError(try notScalar.train(epochs: 1)) { error in
            XCTAssertEqual("\(error)", "train: the loss must be a single number, got shape [10, 1]")
        }
    }
}
