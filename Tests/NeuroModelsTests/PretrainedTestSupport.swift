import XCTest
import Foundation
import NeuroEngine
@testable import NeuroModels

/// Shared by the pretrained-model parity tests: fixture paths, a float32
/// comparison scaled to each tensor's size, and scratch model folders.
enum PretrainedSupport {
    static func folder(_ name: String) -> String { fixturePath("pretrained/" + name) }

    static func expected(_ name: String) throws -> SafeTensorsFile {
        try SafeTensors.read(fixturePath("pretrained/" + name))
    }

    static func tensor(_ file: SafeTensorsFile, _ key: String) throws -> Tensor {
        guard let t = file.tensors[key] else { throw EngineError(.argument, "fixture has no '\(key)'") }
        return t
    }

    /// Asserts every entry within 1e-4 of its own size, or of 1% of the
    /// tensor's largest entry when it is smaller (float32 noise on
    /// cancelling sums scales with the terms), plus `atol`; infinities must match.
    static func assertClose(_ actual: Tensor, _ expected: Tensor, _ label: String, rtol: Double = 1e-4, atol: Double = 1e-6,
                            file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(actual.shape, expected.shape, "\(label) shape", file: file, line: line)
        let a = actual.toDoubles(), e = expected.toDoubles()
        guard a.count == e.count else { return }
        let scale = e.filter(\.isFinite).map(Swift.abs).max() ?? 0
        let floor = Swift.max(scale * 1e-2, Double.leastNormalMagnitude)
        for i in 0..<e.count {
            if !e[i].isFinite || !a[i].isFinite {
                if a[i] != e[i] { XCTFail("\(label) index \(i): \(a[i]) vs expected \(e[i])", file: file, line: line); return }
                continue
            }
            let error = Swift.abs(a[i] - e[i])
            if error > rtol * Swift.max(Swift.abs(e[i]), floor) + atol {
                XCTFail("\(label) index \(i): \(a[i]) vs expected \(e[i]) (error \(error))", file: file, line: line)
                return
            }
        }
    }

    /// Asserts the model's hook points are the fixture's hooks, in order, and
    /// that each cached activation matches.
    static func assertEveryHook(_ model: any HookedModel, _ cache: ActivationCache, _ file: SafeTensorsFile,
                                fileID: StaticString = #filePath, line: UInt = #line) throws {
        let names = (file.metadata["hooks"] ?? "").split(separator: ",").map(String.init)
        XCTAssertFalse(names.isEmpty, "fixture lists its hooks", file: fileID, line: line)
        XCTAssertEqual(model.hookPoints.map(\.name), names, "hook points in TransformerLens's names and order", file: fileID, line: line)
        for name in names {
            let point = try model.hooks.point(named: name)
            guard let value = cache[point] else { XCTFail("\(name) was not cached", file: fileID, line: line); continue }
            assertClose(value, try tensor(file, "cache." + name), name, file: fileID, line: line)
        }
    }

    /// A scratch copy of a fixture folder, with `edit` applied to its
    /// tensors and `config` to its config.json; removed by the caller.
    static func editedCopy(of name: String, tensors edit: (inout [(String, Tensor)]) throws -> Void = { _ in },
                           config editConfig: (inout [String: Any]) -> Void = { _ in }) throws -> String {
        let source = folder(name)
        let target = NSTemporaryDirectory() + "neuromap-\(name)-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: target, withIntermediateDirectories: true)
        let file = try SafeTensors.read(source + "/model.safetensors")
        var tensors = file.order.compactMap { n in file.tensors[n].map { (n, $0) } }
        try edit(&tensors)
        try SafeTensors.write(tensors, metadata: ["format": "pt"], to: target + "/model.safetensors")
        let data = try Data(contentsOf: URL(fileURLWithPath: source + "/config.json"))
        var json = try JSONSerialization.jsonObject(with: data) as? [String: Any] ?? [:]
        editConfig(&json)
        try JSONSerialization.data(withJSONObject: json).write(to: URL(fileURLWithPath: target + "/config.json"))
        return target
    }

    static func remove(_ path: String) { try? FileManager.default.removeItem(atPath: path) }
}
