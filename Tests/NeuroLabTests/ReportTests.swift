import Foundation
import XCTest
@testable import NeuroLanguage
@testable import NeuroLab
import NeuroPlots

/// `report`: one self-contained HTML page with every result of the session,
/// in order, each with its summary and picture; it loads in a browser.
final class ReportTests: XCTestCase {
    static let session = """
        f = fourier(model)
        s = sweep("resid_pre", with: corrupt(a + 1))
        patch embed with corrupt(a + 1)
        c = circuit(model, tau: 0.01, with: corrupt(a + 1))
        pr = progress(model)
        """

    /// Runs the session and writes its report; the page and the interpreter.
    func report(_ directory: URL, _ call: String = "report") throws -> (String, Interpreter) {
        let path = directory.appendingPathComponent("report.html").path
        let (interpreter, output, error) = PictureTestSupport.run(Self.session + "\n\(call)(\"\(path)\", title: \"grokking <test>\")")
        XCTAssertNil(error)
        XCTAssertEqual(output.last, "wrote a report of \(interpreter.session.results.count) results to \(path)")
        return (try String(contentsOfFile: path, encoding: .utf8), interpreter)
    }

    func testTheReportHoldsEveryResultInOrderWithItsPicture() throws {
        let directory = try PictureTestSupport.temporaryDirectory("report")
        defer { try? FileManager.default.removeItem(at: directory) }
        let (html, interpreter) = try report(directory)
        let results = interpreter.session.results
        XCTAssertEqual(results.count, 6, "training, fourier, sweep, patch, circuit, progress")
        var last = html.startIndex
        for (i, result) in results.enumerated() {
            guard let found = html.range(of: "id=\"result-\(i + 1)\"") else { return XCTFail("no section for result \(i + 1)") }
            XCTAssert(found.lowerBound > last, "result \(i + 1) comes after result \(i)")
            last = found.lowerBound
            XCTAssert(html.contains(Report.escape(result.summary)), "the summary of result \(i + 1) (\(result.typeName)) is in the page")
        }
        XCTAssertEqual(html.components(separatedBy: "<figure><svg").count - 1, results.count, "every result has its picture")
        for section in ["id=\"models\"", "d_mlp", "data-kind=\"fourier\"", "data-kind=\"sweep\"", "data-kind=\"circuit\"",
                        "data-kind=\"progress\"", "data-kind=\"training\"", "data-kind=\"intervention\"", "grokking &lt;test&gt;"] {
            XCTAssert(html.contains(section), "the page has \(section)")
        }
    }

    /// Each result shows, above its summary, the command that made it.
    func testEachResultShowsTheCommandThatMadeIt() throws {
        let directory = try PictureTestSupport.temporaryDirectory("report-commands")
        defer { try? FileManager.default.removeItem(at: directory) }
        let (html, _) = try report(directory)
        for command in ["train model on data epochs 30 lr 1e-2 wd 1.0 checkpoint 10", "f = fourier(model)",
                        "s = sweep(&quot;resid_pre&quot;, with: corrupt(a + 1))", "patch embed with corrupt(a + 1)",
                        "c = circuit(model, tau: 0.01, with: corrupt(a + 1))", "pr = progress(model)"] {
            XCTAssert(html.contains("<pre class=\"command\">\(command)</pre>"), "the report shows the command \(command)")
        }
        let patch = try XCTUnwrap(html.range(of: "<pre class=\"command\">patch embed"))
        let heading = try XCTUnwrap(html.range(of: "<h2>4. "))
        XCTAssert(heading.lowerBound < patch.lowerBound, "the command sits in its result's section, under the heading")
    }

    /// A result is a snapshot of its moment: training on after it does not
    /// change what the report shows for it.
    func testTrainingResultsAreSnapshots() throws {
        let directory = try PictureTestSupport.temporaryDirectory("report-snapshot")
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("r.html").path
        let (interpreter, _, error) = PictureTestSupport.run("""
            data = modular(p: 5, train: 0.5, seed: 1)
            model = transformer(data, layers: 1, heads: 1, d_model: 8, d_mlp: 16, seed: 0)
            first = train(model, on: data, epochs: 7, lr: 1e-2)
            second = train(model, on: data, epochs: 5)
            report("\(path)")
            """, setup: false)
        XCTAssertNil(error)
        let results = interpreter.session.results.compactMap { $0 as? TrainingObject }
        XCTAssertEqual(results.map(\.epoch), [7, 12])
        XCTAssertEqual(results.map(\.history.count), [7, 12])
        XCTAssertTrue(results[0].summary.hasPrefix("trained to epoch 7:"), results[0].summary)
        let html = try String(contentsOfFile: path, encoding: .utf8)
        XCTAssertTrue(html.contains(Report.escape(results[0].summary)))
        XCTAssertTrue(html.contains(Report.escape(results[1].summary)))
        XCTAssertFalse(html.contains("trained to epoch 12") && !html.contains("trained to epoch 7:"))
    }

    func testTheReportIsSelfContained() throws {
        let directory = try PictureTestSupport.temporaryDirectory("report-offline")
        defer { try? FileManager.default.removeItem(at: directory) }
        let (html, _) = try report(directory)
        for reference in ["http://", "https://", "<script", "<link", "@import", "src=", "@font-face"] {
            XCTAssertFalse(html.contains(reference), "the page must not contain \(reference)")
        }
        let ids = html.components(separatedBy: " id=\"").dropFirst().map { $0.prefix { $0 != "\"" } }
        XCTAssertEqual(ids.count, Set(ids).count, "ids are unique across the inline pictures")
    }

    func testAnEmptySessionAndBadPaths() throws {
        let directory = try PictureTestSupport.temporaryDirectory("report-empty")
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("empty.html").path
        let (_, output, error) = PictureTestSupport.run("report(to: \"\(path)\")", setup: false)
        XCTAssertNil(error)
        XCTAssertEqual(output, ["wrote a report of 0 results to \(path)"])
        XCTAssert(try String(contentsOfFile: path, encoding: .utf8).contains("No model in this session."))
        XCTAssertEqual(PictureTestSupport.run("report(\"r.pdf\")", setup: false).error,
                       "report: writes an HTML page; name the file with .html, not 'r.pdf'")
    }

    func testTheCommandForm() throws {
        let directory = try PictureTestSupport.temporaryDirectory("report-command")
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("r.html").path
        let (_, output, error) = PictureTestSupport.run("report to \"\(path)\"", setup: false)
        XCTAssertNil(error)
        XCTAssertEqual(output, ["wrote a report of 0 results to \(path)"])
    }

    func testTheReportLoadsInChromium() throws {
        let directory = try PictureTestSupport.temporaryDirectory("report-chromium")
        defer { try? FileManager.default.removeItem(at: directory) }
        _ = try report(directory)
        let (dom, log) = try PictureTestSupport.loadInChromium(directory.appendingPathComponent("report.html"))
        XCTAssertEqual(PictureTestSupport.scriptErrors(log), [])
        XCTAssertEqual(dom.components(separatedBy: "<section class=\"result\"").count - 1, 6, "the browser sees every section")
        XCTAssert(dom.contains("<svg"), "the browser sees the inline pictures")
    }
}
