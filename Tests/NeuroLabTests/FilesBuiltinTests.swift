import Foundation
import XCTest
import NeuroEngine
import NeuroTestSupport
@testable import NeuroLanguage
@testable import NeuroLab

/// `save` writes the format the extension names, and `load` reads back what
/// `save` wrote.
final class FilesBuiltinTests: XCTestCase {
    var directory: URL!

    override func setUpWithError() throws {
        directory = try PictureTestSupport.temporaryDirectory("files")
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: directory)
    }

    func path(_ name: String) -> String { directory.appendingPathComponent(name).path }

    func run(_ code: String) throws -> Interpreter {
        let (interpreter, _, error) = PictureTestSupport.run(code, setup: false)
        if let error { XCTFail(error) }
        return interpreter
    }

    func testATensorIsWrittenInTheFormatItsExtensionNames() throws {
        _ = try run("""
            x = tensor([[1, 2.5], [3, -4]])
            save(x, "\(path("x.csv"))")
            save(x, "\(path("x.json"))")
            save(x, "\(path("x.npy"))")
            save(x, "\(path("x.safetensors"))")
            save(tensor([1, 2, 3]), "\(path("v.csv"))")
            save(x, "\(path("x.svg"))")
            """)
        XCTAssertEqual(try String(contentsOfFile: path("x.csv"), encoding: .utf8), "1.0,2.5\n3.0,-4.0\n")
        XCTAssertEqual(try String(contentsOfFile: path("v.csv"), encoding: .utf8), "1.0\n2.0\n3.0\n")
        XCTAssertEqual(try String(contentsOfFile: path("x.json"), encoding: .utf8), "[[1, 2.5], [3, -4]]\n")
        XCTAssertTrue(try String(contentsOfFile: path("x.svg"), encoding: .utf8).contains("<svg xmlns"))
        assertClose(try NPY.read(path("x.npy")).toDoubles(), [1, 2.5, 3, -4], rtol: 0, atol: 0)
        // What the extension says is what the bytes are: .csv is not safetensors.
        let csvBytes = try Data(contentsOf: URL(fileURLWithPath: path("x.csv")))
        XCTAssertEqual(csvBytes.first, UInt8(ascii: "1"))
    }

    func testTensorsSavedAsSafetensorsLoadBack() throws {
        let interpreter = try run("""
            x = tensor([[1, 2.5], [3, -4]])
            save(x, "\(path("x.safetensors"))")
            y = load("\(path("x.safetensors"))")
            z = load("\(path("x.safetensors"))")
            """)
        guard case .tensor(let y)? = interpreter.globals.lookup("y") else { return XCTFail("load gave no tensor") }
        XCTAssertEqual(y.shape, [2, 2])
        assertClose(y.toDoubles(), [1, 2.5, 3, -4], rtol: 0, atol: 0)
        XCTAssertNil(interpreter.session.model, "loading tensors makes no model current")
    }

    /// A path that starts with `~` means the home folder, as in a shell:
    /// `save`, `load`, `write`, `read` and `import` all take it.
    func testATildePathMeansTheHomeFolder() throws {
        let name = ".neuromap-test-\(UUID().uuidString)"
        let home = URL(fileURLWithPath: NSHomeDirectory()).appendingPathComponent(name)
        try FileManager.default.createDirectory(at: home, withIntermediateDirectories: false)
        defer { try? FileManager.default.removeItem(at: home) }
        let interpreter = try run("""
            save(tensor([1, 2]), "~/\(name)/x.npy")
            y = load("~/\(name)/x.npy")
            write("~/\(name)/t.txt", "hello")
            t = read("~/\(name)/t.txt")
            write("~/\(name)/lib.nmap", "answer = 42")
            import "~/\(name)/lib.nmap"
            """)
        guard case .number(42)? = interpreter.globals.lookup("answer") else { return XCTFail("import reads a ~ path too") }
        XCTAssertTrue(FileManager.default.fileExists(atPath: home.appendingPathComponent("x.npy").path))
        guard case .tensor(let y)? = interpreter.globals.lookup("y") else { return XCTFail("load gave no tensor") }
        assertClose(y.toDoubles(), [1, 2], rtol: 0, atol: 0)
        guard case .string(let t)? = interpreter.globals.lookup("t") else { return XCTFail("read gave no string") }
        XCTAssertEqual(t, "hello")
    }

    func testAModelSavesAsSafetensorsAndLoadsAsAModel() throws {
        let interpreter = try run("""
            data = modular(p: 5, train: 0.5, seed: 1)
            model = transformer(data, layers: 1, heads: 1, d_model: 8, d_mlp: 16, seed: 0)
            save(model, "\(path("m.safetensors"))")
            again = load("\(path("m.safetensors"))")
            """)
        guard case .object(let model as ModelObject)? = interpreter.globals.lookup("again") else { return XCTFail("no model") }
        XCTAssertEqual(model.model.config.dModel, 8)
        XCTAssertTrue(interpreter.session.model === model, "load makes the model current")
    }

    func testResultsAndValuesSaveAsJSON() throws {
        _ = try run("""
            save({a: 1, b: [2, "three"]}, "\(path("r.json"))")
            data = modular(p: 5, train: 0.5, seed: 1)
            model = transformer(data, layers: 1, heads: 1, d_model: 8, d_mlp: 16, seed: 0)
            use model on data
            p = patch("embed", with: corrupt(a: b, b: a), metric: "loss")
            save(p, "\(path("p.json"))")
            """)
        XCTAssertEqual(try String(contentsOfFile: path("r.json"), encoding: .utf8), "{\"a\": 1, \"b\": [2, \"three\"]}\n")
        let patch = try String(contentsOfFile: path("p.json"), encoding: .utf8)
        XCTAssertTrue(patch.contains("\"kind\": \"patch\""), patch)
        XCTAssertTrue(patch.contains("\"effect\": null"), "an undefined effect is null, not 0: \(patch)")
    }

    func testLoadRefusesFilesItCannotRead() {
        let (_, _, error) = PictureTestSupport.run("load(\"\(path("notes.txt"))\")", setup: false)
        XCTAssertEqual(error, "load: no such file '\(path("notes.txt"))'")
        FileManager.default.createFile(atPath: path("notes.txt"), contents: Data("hello".utf8))
        let (_, _, other) = PictureTestSupport.run("load(\"\(path("notes.txt"))\")", setup: false)
        XCTAssertEqual(other, "load: cannot tell what '\(path("notes.txt"))' holds: load reads .npy, .safetensors, .json and .csv files (and model folders)")
    }

    /// What is not a regular file is refused by name, at once: a FIFO would
    /// block the session forever and /dev/zero would fill memory.
    func testLoadRefusesWhatIsNotARegularFile() throws {
        let fifo = path("pipe.npy"), device = path("zero.safetensors"), folder = path("folder.safetensors")
        XCTAssertEqual(mkfifo(fifo, 0o600), 0)
        try FileManager.default.createSymbolicLink(atPath: device, withDestinationPath: "/dev/zero")
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: false)
        let cases = [(fifo, "is a FIFO"), (device, "is a device"), (folder, "is a directory")]
        for (file, what) in cases {
            let done = DispatchSemaphore(value: 0)
            let box = ErrorBox()
            Thread {
                box.error = PictureTestSupport.run("load(\"\(file)\")", setup: false).error
                done.signal()
            }.start()
            guard done.wait(timeout: .now() + 10) == .success else {
                XCTFail("load(\"\(file)\") blocked")
                let fd = open(fifo, O_WRONLY | O_NONBLOCK)   // give the FIFO a writer, so the reader ends
                if fd >= 0 { close(fd) }
                continue
            }
            XCTAssertEqual(box.error, "load: \(file): \(what), not a regular file")
        }
    }
}

/// Where a worker thread leaves the error it saw; read only after its semaphore.
private final class ErrorBox: @unchecked Sendable {
    var error: String?
}
