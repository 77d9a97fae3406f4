import XCTest
@testable import NeuroModels
@testable import NeuroLanguage
@testable import NeuroLab

/// The training progress line draws whatever the numbers: a run file that
/// says epoch −7 (refused on load now, but the line must not trap either),
/// an epoch past the total, an endless ETA.
final class ProgressLineTests: XCTestCase {
    private func line(epoch: Int, total: Int, msPerEpoch: Double = 10) -> String {
        Builtins.progressLine(TrainingProgress(epoch: epoch, totalEpochs: total, trainLoss: 1, testLoss: 2,
                                               testAccuracy: 0.5, msPerEpoch: msPerEpoch))
    }

    func testBarStaysWithinItsWidth() {
        XCTAssertTrue(line(epoch: 5, total: 10).contains("epoch 5/10 ━━━━━━━━━━╸─────────"))
        XCTAssertTrue(line(epoch: -7, total: 3).contains("epoch -7/3 ╸───────────────────"))
        XCTAssertTrue(line(epoch: 30, total: 3).contains("epoch 30/3 ━━━━━━━━━━━━━━━━━━━━ "))
        XCTAssertTrue(line(epoch: 1, total: Int.max).contains("ETA days"))
        XCTAssertTrue(line(epoch: 1, total: 2, msPerEpoch: .nan).hasSuffix("ETA ?"))
    }

    func testDurationsOfAnySizePrint() {
        XCTAssertEqual(Builtins.duration(12), "12s")
        XCTAssertEqual(Builtins.duration(125), "2m05s")
        XCTAssertEqual(Builtins.duration(1e300), "days")
        XCTAssertEqual(Builtins.duration(-.infinity), "?")
    }
}
