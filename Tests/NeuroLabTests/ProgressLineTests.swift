import XCTest
import NeuroEngine
@testable import NeuroModels
@testable import NeuroLanguage
@testable import NeuroLab

/// The progress line's text (what runs, how far, the time left) for any
/// numbers, and the reporter that draws it: at most a few times a second,
/// nothing for short work, ended cleanly, stopped by Ctrl-C.
final class ProgressLineTests: XCTestCase {
    override func tearDown() {
        Interruption.clear()
    }

    private func line(epoch: Int, total: Int, msPerEpoch: Double = 10) -> String {
        Builtins.progressLine(TrainingProgress(epoch: epoch, totalEpochs: total, trainLoss: 1, testLoss: 2,
                                               testAccuracy: 0.5, msPerEpoch: msPerEpoch))
    }

    func testTrainingBarStaysWithinItsWidth() {
        XCTAssertTrue(line(epoch: 5, total: 10).contains("epoch 5/10 ━━━━━━━━━━╸─────────"))
        XCTAssertTrue(line(epoch: -7, total: 3).contains("epoch -7/3 ╸───────────────────"))
        XCTAssertTrue(line(epoch: 30, total: 3).contains("epoch 30/3 ━━━━━━━━━━━━━━━━━━━━ "))
        XCTAssertTrue(line(epoch: 1, total: Int.max).contains("ETA days"))
        XCTAssertTrue(line(epoch: 1, total: 2, msPerEpoch: .nan).hasSuffix("ETA ?"))
    }

    func testDurationsOfAnySizePrint() {
        XCTAssertEqual(ProgressLine.duration(12), "12s")
        XCTAssertEqual(ProgressLine.duration(125), "2m05s")
        XCTAssertEqual(ProgressLine.duration(1e300), "days")
        XCTAssertEqual(ProgressLine.duration(-.infinity), "?")
    }

    func testLineSaysWhatHowFarAndTimeLeft() {
        XCTAssertEqual(ProgressLine.text("sweep mlp_post 0 by pos × neuron", done: 1024, total: 2048, elapsed: 10),
                       "  sweep mlp_post 0 by pos × neuron  1024/2048 ━━━━━━━━━━╸─────────  50%  ETA 10s")
        // 3 of 12 in 6 s: 2 s a step, 9 steps left.
        XCTAssertEqual(ProgressLine.text("importance", done: 3, total: 12, elapsed: 6, detail: "a0.1"),
                       "  importance  3/12 ━━━━━╸──────────────  25%  ETA 18s  a0.1")
        // No estimate from fewer than three steps, nor once done.
        XCTAssertEqual(ProgressLine.text("scan", done: 2, total: 100, elapsed: 1), "  scan  2/100 ╸───────────────────  2%")
        XCTAssertEqual(ProgressLine.text("scan", done: 100, total: 100, elapsed: 50), "  scan  100/100 ━━━━━━━━━━━━━━━━━━━━  100%")
        XCTAssertEqual(ProgressLine.secondsLeft(done: 10, total: 40, elapsed: 5), 15)
        XCTAssertNil(ProgressLine.secondsLeft(done: 2, total: 40, elapsed: 5))
    }

    func testLineDrawsWhateverTheNumbers() {
        XCTAssertEqual(ProgressLine.text("x", done: 0, total: 0, elapsed: 0), "  x  0/0 ╸───────────────────  0%")
        XCTAssertEqual(ProgressLine.text("x", done: 9, total: 3, elapsed: 1), "  x  9/3 ━━━━━━━━━━━━━━━━━━━━  100%")
        XCTAssertEqual(ProgressLine.text("x", done: -4, total: 3, elapsed: 1), "  x  -4/3 ╸───────────────────  0%")
        XCTAssertTrue(ProgressLine.text("x", done: 5, total: Int.max, elapsed: 1).hasSuffix("ETA days"))
        XCTAssertEqual(ProgressLine.text("x", done: 5, total: 9, elapsed: .nan), "  x  5/9 ━━━━━━━━━━━╸────────  55%")
        let long = String(repeating: "z", count: 100)
        let text = ProgressLine.text(long, done: 1, total: 2, elapsed: 0)
        XCTAssertTrue(text.hasPrefix("  " + String(repeating: "z", count: ProgressLine.maxWhat - 1) + "…  1/2"), text)
    }

    /// A display that records what it is told, and a clock the test moves.
    final class Screen {
        var shown: [String] = []
        var ended: [Bool] = []
        var now = 100.0
        var display: ProgressDisplay { ProgressDisplay(show: { self.shown.append($0) }, end: { self.ended.append($0) }) }
    }

    func testReporterRedrawsAFewTimesASecondAndStaysQuietForShortWork() throws {
        let screen = Screen()
        let reporter = ProgressReporter("sweep", display: screen.display, clock: { screen.now })
        try reporter.step(1, of: 10)                   // at once: nothing
        screen.now += 0.3
        try reporter.step(2, of: 10)                   // before quietStart: nothing
        XCTAssertEqual(screen.shown, [])
        screen.now += 0.3
        try reporter.step(3, of: 10)                   // 0.6 s: drawn, with an estimate (0.2 s a step)
        screen.now += 0.1
        try reporter.step(4, of: 10)                   // 0.1 s after the last draw: skipped
        screen.now += 0.15
        try reporter.step(5, of: 10)
        XCTAssertEqual(screen.shown, ["  sweep  3/10 ━━━━━━╸─────────────  30%  ETA 1s",
                                      "  sweep  5/10 ━━━━━━━━━━╸─────────  50%  ETA 1s"])
        reporter.finish()
        reporter.finish()
        XCTAssertEqual(screen.ended, [false], "erased once")

        let quick = Screen()
        let short = ProgressReporter("path_patch", display: quick.display, clock: { quick.now })
        for i in 0...3 { try short.step(i, of: 3) }
        short.finish()
        XCTAssertEqual(quick.shown, [])
        XCTAssertEqual(quick.ended, [], "nothing drawn, nothing to erase")
    }

    func testForcedLineIsDrawnAndKept() {
        let screen = Screen()
        let reporter = ProgressReporter("train", display: screen.display, clock: { screen.now })
        reporter.draw(force: true) { elapsed in "done after \(elapsed)" }
        reporter.finish(keep: true)
        XCTAssertEqual(screen.shown, ["done after 0.0"])
        XCTAssertEqual(screen.ended, [true])
    }

    func testStepThrowsInterruptedAfterCtrlC() throws {
        let reporter = ProgressReporter("sweep", display: .silent)
        try reporter.step(1, of: 2)
        Interruption.request()
        XCTAssertThrowsError(try reporter.step(2, of: 2)) { error in
            XCTAssertEqual((error as? EngineError)?.kind, .interrupted)
        }
        XCTAssertThrowsError(try reporter.callback(2, 2))
    }

    /// Not a terminal (as under `swift test` with output captured): no display at all.
    func testNoTerminalDisplayWithoutATerminal() throws {
        try XCTSkipIf(isatty(STDERR_FILENO) != 0, "standard error is a terminal here")
        XCTAssertNil(ProgressDisplay.standardError())
    }
}

extension ProgressLineTests {
    /// Steps that cost nothing at first (a sweep's unread cells) do not
    /// mislead the estimate once the pace window has passed them.
    func testTimeLeftFollowsTheRecentPace() throws {
        let screen = Screen()
        let reporter = ProgressReporter("sweep", display: screen.display, clock: { screen.now })
        screen.now += 1
        try reporter.step(500, of: 1000)                 // half the cells at once
        for i in 1...30 {                                // then one cell a second
            screen.now += 1
            try reporter.step(500 + i, of: 1000)
        }
        // 470 cells left at one a second (from the start it would say 470 × 31 / 530 ≈ 27 s).
        XCTAssertTrue(screen.shown.last?.hasSuffix("ETA 7m50s") ?? false, "\(screen.shown.last ?? "")")
        XCTAssertEqual(ProgressLine.text("x", done: 20, total: 30, elapsed: 5, since: 10), "  x  20/30 ━━━━━━━━━━━━━╸──────  66%  ETA 5s")
        XCTAssertEqual(ProgressLine.secondsLeft(done: 12, total: 30, elapsed: 5, since: 10), nil, "two steps are too few")
    }
}
