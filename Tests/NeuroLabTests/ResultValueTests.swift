import XCTest
@testable import NeuroLanguage
@testable import NeuroLab
import NeuroPlots

/// Each result carries its own heading and picture, given by the built-in
/// that made it: the report and `plot` keep no list of kinds.
final class ResultValueTests: XCTestCase {
    func testAResultDrawsThePictureItsBuiltinGaveIt() throws {
        let drawn = ResultValue(heading: "toy analysis", figure: { r in
            Figure(title: r.title, panels: [.bars(BarPanel(title: "b", xLabel: "", yLabel: "", categories: ["x"], groups: [.init(name: "g", values: [1])]))])
        }, kind: "toy", title: "a toy", fields: [])
        XCTAssertEqual(drawn.heading, "toy analysis")
        XCTAssertEqual(try drawn.figure().title, "a toy")
        XCTAssertEqual(Report.heading(drawn), "toy analysis")
        XCTAssertEqual(try Figure.of(.object(drawn)).panels.count, 1)

        let plain = ResultValue(kind: "toy", title: "no picture", fields: [])
        XCTAssertEqual(plain.heading, "toy", "the kind is the heading unless told")
        XCTAssertThrowsError(try Figure.of(.object(plain))) { error in
            XCTAssert("\(error)".hasPrefix("a toy result has no natural picture; plot can draw a tensor"), "\(error)")
        }
    }

    func testEveryAnalysisBuiltinGivesItsResultAHeadingAndAPicture() {
        let (interpreter, _, error) = PictureTestSupport.run("""
            f = fourier(model)
            s = sweep("resid_pre", with: corrupt(a + 1))
            train model on data epochs 2
            """)
        XCTAssertNil(error)
        let headings = interpreter.session.results.map(Report.heading)
        XCTAssert(headings.contains("Fourier analysis"), "\(headings)")
        XCTAssert(headings.contains("activation patching"), "\(headings)")
        XCTAssert(headings.contains("training"), "\(headings)")
        for case let result as Pictured in interpreter.session.results {
            XCTAssertNoThrow(try result.figure(), result.heading)
        }
    }
}
