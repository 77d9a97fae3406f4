import XCTest
import NeuroPlots

final class SVGTests: XCTestCase {
    func testNumbersHaveAtMostTwoDecimalsAndNoNegativeZero() {
        XCTAssertEqual(SVG.number(3.14159), "3.14")
        XCTAssertEqual(SVG.number(2.5), "2.5")
        XCTAssertEqual(SVG.number(100), "100")
        XCTAssertEqual(SVG.number(-0.001), "0")
        XCTAssertEqual(SVG.number(-12.305), "-12.31")
        XCTAssertEqual(SVG.number(0.05), "0.05")
        XCTAssertEqual(SVG.number(.nan), "0")
    }

    func testTextIsEscaped() throws {
        XCTAssertEqual(SVG.escape("a < b & \"c\""), "a &lt; b &amp; &quot;c&quot;")
        XCTAssertEqual(SVG.escape("bell\u{7}"), "bell")
        var svg = SVG(width: 100, height: 50)
        svg.text("<script>&", x: 10, y: 20)
        let text = svg.render()
        XCTAssertTrue(text.contains("&lt;script&gt;&amp;"))
        XCTAssertTrue(isWellFormed(text))
    }

    func testChartTitlesWithMarkupStayWellFormed() throws {
        let chart = LineChart(title: "loss <p = 113> & \"friends\"", series: [.init("a&b", y: [1, 2])])
        XCTAssertTrue(isWellFormed(try chart.render()))
    }
}
