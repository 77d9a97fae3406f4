import XCTest
import NeuroPlots

final class AxisTests: XCTestCase {
    func testLinearTicksUseOneTwoFiveSteps() {
        XCTAssertEqual(Axis.niceTicks(from: 0, to: 1, count: 5).map { ($0 * 10).rounded() / 10 }, [0, 0.2, 0.4, 0.6, 0.8, 1])
        XCTAssertEqual(Axis.niceTicks(from: 0, to: 25_000, count: 6), [0, 5000, 10_000, 15_000, 20_000, 25_000])
        XCTAssertEqual(Axis.niceTicks(from: -3, to: 7, count: 5), [-2, 0, 2, 4, 6])
        XCTAssertEqual(Axis.niceStep(span: 730, count: 4), 200)
        XCTAssertEqual(Axis.niceStep(span: 730, count: 5), 100)
        XCTAssertEqual(Axis.niceStep(span: 0.05, count: 5), 0.01, accuracy: 1e-12)
        XCTAssertEqual(Axis.niceTicks(from: 3, to: 3), [3])
        XCTAssertEqual(Axis.niceTicks(from: .nan, to: 1), [])
    }

    func testLogTicksAreDecadesWithMinorTicksBetween() {
        let (major, minor) = Axis.logTicks(from: 1, to: 100)
        XCTAssertEqual(major, [1, 10, 100])
        XCTAssertEqual(minor.count, 16)                 // 2…9 and 20…90
        XCTAssertEqual(minor.first ?? 0, 2, accuracy: 1e-12)
        XCTAssertEqual(minor.last ?? 0, 90, accuracy: 1e-9)
        // Twenty decades: majors skip decades and minors are dropped.
        let wide = Axis.logTicks(from: 1e-10, to: 1e10)
        XCTAssertLessThanOrEqual(wide.major.count, 11)
        XCTAssertTrue(wide.minor.isEmpty)
        XCTAssertEqual(Axis.logTicks(from: 0, to: 10).major, [])
    }

    func testTickLabels() {
        XCTAssertEqual(Axis.tickLabel(0.30000000000000004, step: 0.1), "0.3")
        XCTAssertEqual(Axis.tickLabel(8, step: 2), "8")
        XCTAssertEqual(Axis.tickLabel(-2.5, step: 0.5), "−2.5")
        XCTAssertEqual(Axis.tickLabel(2_000_000, step: 500_000), "2e6")
        XCTAssertEqual(Axis.tickLabel(1.5e-5, step: 5e-6), "1.5e-5")
        XCTAssertEqual(Axis.decadeLabel(1e-5), "10⁻⁵")
        XCTAssertEqual(Axis.decadeLabel(100, plain: true), "100")
        XCTAssertEqual(Axis.decadeLabel(0.01, plain: true), "0.01")
        XCTAssertEqual(Axis.decadeLabel(1e6, plain: true), "10⁶")
    }

    func testLogAxisChartLabelsEveryDecadeInOneStyle() throws {
        let chart = LineChart(yAxis: Axis("loss", scale: .log), series: [.init("train", y: [5, 0.5, 1e-3, 1e-6])])
        let svg = try chart.render()
        for label in ["10⁻⁶", "10⁻³", "10⁰", "10¹"] { XCTAssertTrue(svg.contains(">\(label)</text>"), label) }
        XCTAssertFalse(svg.contains(">0.01</text>"))
    }
}
