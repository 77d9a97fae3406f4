import XCTest
import Foundation
import NeuroEngine
import NeuroTestSupport
@testable import NeuroModels

/// SAELens folders read and written: each architecture saved by SAELens's
/// own `save_model`, against SAELens's `encode` and `decode` of the same
/// inputs (Fixtures/saelens/make_saelens_fixtures.py writes both).
final class SparseAutoencoderSAELensTests: XCTestCase {
    static let cases: [(name: String, kind: SAEKind)] = [
        ("standard", .standard), ("gated", .gated), ("topk", .topk), ("jumprelu", .jumprelu),
        ("gated_raw_input", .gated), ("topk_rescaled", .topk),
    ]

    func folder(_ name: String) -> String { fixturePath("saelens/" + name) }

    func expected() throws -> SafeTensorsFile { try SafeTensors.read(fixturePath("saelens/expected.safetensors")) }

    func tensor(_ file: SafeTensorsFile, _ key: String) throws -> Tensor {
        try XCTUnwrap(file.tensors[key], "expected.safetensors has no '\(key)'")
    }

    /// Within 1e-5 of each value, or of 1e-5 of the largest value when smaller.
    func assertMatches(_ actual: Tensor, _ expected: Tensor, _ message: String, file: StaticString = #filePath, line: UInt = #line) {
        let largest = expected.toDoubles().map(Swift.abs).max() ?? 0
        assertClose(actual, expected, rtol: 1e-5, atol: 1e-5 * max(1, largest), message, file: file, line: line)
    }

    // MARK: - SAELens's files, SAELens's numbers

    func testEveryFixtureGivesSAELensFeaturesAndReconstructions() throws {
        let file = try expected()
        XCTAssertEqual(file.metadata["cases"], Self.cases.map(\.name).joined(separator: ","))
        let x = try tensor(file, "x")
        for (name, kind) in Self.cases {
            let sae = try SparseAutoencoder.load(saeLensFolder: folder(name))
            XCTAssertEqual(sae.config.kind, kind, name)
            XCTAssertEqual(sae.inputScale, 1, name)
            let features = try sae.features(of: x)
            assertMatches(features, try tensor(file, "\(name).features"), "\(name) features")
            assertMatches(try sae.reconstruction(of: x), try tensor(file, "\(name).reconstruction"), "\(name) reconstruction")
            let active = features.toFloats().filter { $0 > 0 }.count
            XCTAssertGreaterThan(active, 0, "\(name): some features fire")
            XCTAssertLessThan(active, features.count, "\(name): some features are silent")
        }
    }

    func testFixtureSettingsAreReadAsWritten() throws {
        let topk = try SparseAutoencoder.load(saeLensFolder: folder("topk"))
        XCTAssertEqual(topk.config.k, 3)
        XCTAssertTrue(topk.config.applyDecoderBiasToInput)
        XCTAssertFalse(try SparseAutoencoder.load(saeLensFolder: folder("gated_raw_input")).config.applyDecoderBiasToInput)
        let jumprelu = try SparseAutoencoder.load(saeLensFolder: folder("jumprelu"))
        let saved = try SafeTensors.read(folder("jumprelu") + "/sae_weights.safetensors")
        assertClose(try XCTUnwrap(jumprelu.logThreshold).exp(), try tensor(saved, "threshold"), rtol: 1e-6, atol: 0, "thresholds")
        // The rescaled TopK has its decoder norms folded in: unit rows.
        let rescaled = try SparseAutoencoder.load(saeLensFolder: folder("topk_rescaled"))
        assertClose(try rescaled.W_dec.norm(axes: [1]), try Tensor.full([16], value: 1), rtol: 1e-5, atol: 0, "unit decoder rows")
    }

    /// The settings change the numbers: read the other way, the fixtures no longer match.
    func testTheSettingsMatter() throws {
        let file = try expected()
        let x = try tensor(file, "x")
        let raw = try editedCopy("gated_raw_input", config: { $0 = $0.replacingOccurrences(of: "\"apply_b_dec_to_input\": false", with: "\"apply_b_dec_to_input\": true") })
        defer { remove(raw) }
        let centered = try SparseAutoencoder.load(saeLensFolder: raw).features(of: x)
        XCTAssertGreaterThan(try (centered - tensor(file, "gated_raw_input.features")).abs().max().item(), 0.01)
        let plain = try editedCopy("topk_rescaled", config: { $0 = $0.replacingOccurrences(of: "\"rescale_acts_by_decoder_norm\": true", with: "\"rescale_acts_by_decoder_norm\": false") })
        defer { remove(plain) }
        let unscaled = try SparseAutoencoder.load(saeLensFolder: plain).features(of: x)
        XCTAssertGreaterThan(try (unscaled - tensor(file, "topk_rescaled.features")).abs().max().item(), 0.01)
    }

    /// A file of SAELens before 6.0: no version, no architecture, TopK named by its activation.
    func testPre6ConfigIsConvertedAsSAELensDoes() throws {
        let old = try editedCopy("topk", config: {
            $0 = "{\"d_in\": 8, \"d_sae\": 16, \"dtype\": \"float32\", \"activation_fn_str\": \"topk\", \"activation_fn_kwargs\": {\"k\": 3}, "
                + "\"normalize_activations\": false, \"hook_name\": \"blocks.0.hook_resid_pre\"}"
        }, tensors: { $0.append(("scaling_factor", try Tensor.full([16], value: 1))) })
        defer { remove(old) }
        let sae = try SparseAutoencoder.load(saeLensFolder: old)
        XCTAssertEqual(sae.config.kind, .topk)
        XCTAssertEqual(sae.config.k, 3)
        let file = try expected()
        assertMatches(try sae.features(of: tensor(file, "x")), try tensor(file, "topk.features"), "pre-6 topk")
        // Older JumpReLU checkpoints hold log_threshold, which SAELens exponentiates.
        let logged = try editedCopy("jumprelu", tensors: { list in
            list = try list.map { $0.0 == "threshold" ? ("log_threshold", try $0.1.log()) : $0 }
        })
        defer { remove(logged) }
        assertMatches(try SparseAutoencoder.load(saeLensFolder: logged).features(of: tensor(file, "x")),
                      try tensor(file, "jumprelu.features"), "jumprelu from log_threshold")
    }

    // MARK: - Saving

    func testSaveAndLoadGiveTheSameAutoencoder() throws {
        let x = try tensor(try expected(), "x")
        for (name, kind) in Self.cases {
            let sae = try SparseAutoencoder.load(saeLensFolder: folder(name))
            let out = temporaryFolder()
            defer { remove(out) }
            try sae.save(saeLensFolder: out + "/nested/sae", metadata: ["hook_name": "blocks.0.hook_resid_pre"])
            let back = try SparseAutoencoder.load(saeLensFolder: out + "/nested/sae")
            XCTAssertEqual(back.config.kind, kind, name)
            XCTAssertEqual(back.config.applyDecoderBiasToInput, sae.config.applyDecoderBiasToInput, name)
            XCTAssertEqual(back.config.k, sae.config.k, name)
            assertClose(try back.features(of: x), try sae.features(of: x), rtol: 1e-6, atol: 1e-6, "\(name) features")
            assertClose(try back.reconstruction(of: x), try sae.reconstruction(of: x), rtol: 1e-6, atol: 1e-6, "\(name) reconstruction")
            // SAELens's tensor names, and nothing else in the folder.
            let written = try SafeTensors.read(out + "/nested/sae/sae_weights.safetensors")
            let original = try SafeTensors.read(folder(name) + "/sae_weights.safetensors")
            XCTAssertEqual(Set(written.order), Set(original.order), name)
            XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: out + "/nested/sae").sorted(),
                           ["cfg.json", "sae_weights.safetensors"], name)
            let cfg = try String(contentsOfFile: out + "/nested/sae/cfg.json", encoding: .utf8)
            XCTAssertTrue(cfg.contains("\"architecture\": \"\(kind.rawValue)\""), cfg)
            XCTAssertTrue(cfg.contains("\"hook_name\": \"blocks.0.hook_resid_pre\""), cfg)
        }
    }

    /// A trained autoencoder's input scale is folded into the saved weights:
    /// loaded back (scale 1), it maps raw activations exactly as the original.
    func testInputScaleIsFoldedIntoTheSavedWeights() throws {
        var rng = RandomGenerator(seed: 11)
        let raw = try Tensor.randn([32, 8], mean: 3, std: 40, using: &rng)
        for kind in SAEKind.allCases {
            for applied in [true, false] {
                let sae = try randomAutoencoder(kind, inputScale: 0.025, applyDecoderBiasToInput: applied, rng: &rng)
                let label = "\(kind.rawValue) apply_b_dec_to_input \(applied)"
                let out = temporaryFolder()
                defer { remove(out) }
                try sae.save(saeLensFolder: out)
                let back = try SparseAutoencoder.load(saeLensFolder: out)
                XCTAssertEqual(back.inputScale, 1, label)
                let features = try sae.features(of: raw)
                XCTAssertGreaterThan(features.toFloats().filter { $0 > 0 }.count, 10, label)
                assertMatches(try back.features(of: raw), features, "\(label) features")
                assertMatches(try back.reconstruction(of: raw), try sae.reconstruction(of: raw), "\(label) reconstruction")
                let written = try SafeTensors.read(out + "/sae_weights.safetensors")
                assertClose(try tensor(written, "W_enc"), try sae.W_enc * 0.025, rtol: 1e-6, atol: 0, "\(label) W_enc·s")
                assertClose(try tensor(written, "b_dec"), try sae.b_dec * 40, rtol: 1e-6, atol: 0, "\(label) b_dec/s")
            }
        }
    }

    func randomAutoencoder(_ kind: SAEKind, inputScale: Double, applyDecoderBiasToInput: Bool,
                           rng: inout RandomGenerator) throws -> SparseAutoencoder {
        var config = SAEConfig(kind: kind, dIn: 8, dSAE: 16, k: 4)
        config.applyDecoderBiasToInput = applyDecoderBiasToInput
        var weights = [
            "W_enc": try Tensor.randn([8, 16], std: 0.5, using: &rng), "W_dec": try Tensor.randn([16, 8], std: 0.5, using: &rng),
            "b_dec": try Tensor.randn([8], std: 0.3, using: &rng), "b_enc": try Tensor.randn([16], std: 0.3, using: &rng),
        ]
        for name in ["b_gate", "r_mag", "b_mag"] { weights[name] = try Tensor.randn([16], std: 0.3, using: &rng) }
        weights["log_threshold"] = try Tensor.uniform([16], low: 0.05, high: 0.6, using: &rng).log()
        return try SparseAutoencoder(config, inputScale: inputScale, weights: weights)
    }

    // MARK: - Malformed folders

    func testMalformedFoldersNameWhatIsWrong() throws {
        assertThrows("no-such-folder: not a SAELens folder") { try SparseAutoencoder.load(saeLensFolder: "/no-such-folder") }
        try assertLoadFails("standard", "missing tensor 'b_enc' [d_sae] = [16]", tensors: { $0.removeAll { $0.0 == "b_enc" } })
        try assertLoadFails("gated", "missing tensor 'b_gate' [d_sae] = [16]; did you mean 'b_gat'?",
                            tensors: { $0 = $0.map { ($0.0 == "b_gate" ? "b_gat" : $0.0, $0.1) } })
        try assertLoadFails("standard", "sae_weights.safetensors: tensor 'W_enc' has shape [8, 15], expected [d_in, d_sae] = [8, 16]",
                            tensors: { $0 = try $0.map { ($0.0, $0.0 == "W_enc" ? try $0.1.slice(axis: 1, start: 0, end: 15) : $0.1) } })
        try assertLoadFails("standard", "unexpected tensor 'threshold'; a standard SAE has W_enc, W_dec, b_dec, b_enc",
                            tensors: { $0.append(("threshold", try Tensor.full([16], value: 0.1))) })
        try assertLoadFails("topk", "tensor 'scaling_factor'", tensors: { $0.append(("scaling_factor", try Tensor.full([16], value: 2))) })
        try assertLoadFails("jumprelu", "threshold[2] is -0.5; JumpReLU thresholds must be positive and finite", tensors: { list in
            list = try list.map { name, t in
                guard name == "threshold" else { return (name, t) }
                var values = t.toFloats()
                values[2] = -0.5
                return (name, try Tensor(values, shape: [16]))
            }
        })
        try assertLoadFails("jumprelu", "threshold[0] is inf", tensors: { list in
            list = try list.map { ($0.0, $0.0 == "threshold" ? try Tensor.full([16], value: .infinity) : $0.1) }
        })
        try assertLoadFails("standard", "sae_weights.safetensors: header length", weightsBytes: { $0 = Array($0.prefix(8)) + [0] })
    }

    func testMalformedConfigsNameTheField() throws {
        func replacing(_ a: String, _ b: String) -> (inout String) -> Void { { $0 = $0.replacingOccurrences(of: a, with: b) } }
        try assertLoadFails("jumprelu", "cfg.json: unknown architecture 'jump_relu' (supported: standard, gated, topk, jumprelu); did you mean 'jumprelu'?",
                            config: replacing("\"jumprelu\"", "\"jump_relu\""))
        try assertLoadFails("standard", "cfg.json: architecture 'transcoder' is not supported (supported: standard, gated, topk, jumprelu)",
                            config: replacing("\"standard\"", "\"transcoder\""))
        try assertLoadFails("standard", "cfg.json: not valid JSON", config: { $0 = String($0.dropLast(3)) })
        try assertLoadFails("standard", "cfg.json: not a JSON object", config: { $0 = "[1, 2]" })
        try assertLoadFails("standard", "cfg.json: missing field 'd_sae'", config: replacing("\"d_sae\": 16, ", ""))
        try assertLoadFails("standard", "cfg.json: missing field 'architecture'", config: replacing(", \"architecture\": \"standard\"", ""))
        try assertLoadFails("standard", "cfg.json: field 'd_in' must be an integer, got '8'", config: replacing("\"d_in\": 8", "\"d_in\": \"8\""))
        try assertLoadFails("standard", "cfg.json: field 'apply_b_dec_to_input' must be true or false, got 1",
                            config: replacing("\"apply_b_dec_to_input\": true", "\"apply_b_dec_to_input\": 1"))
        try assertLoadFails("standard", "sae_weights.safetensors: tensor 'W_enc' has shape [8, 16], expected [d_in, d_sae] = [8, 32]",
                            config: replacing("\"d_sae\": 16", "\"d_sae\": 32"))
        try assertLoadFails("standard", "cfg.json: normalize_activations 'layer_norm' is not supported",
                            config: replacing("\"normalize_activations\": \"none\"", "\"normalize_activations\": \"layer_norm\""))
        try assertLoadFails("standard", "normalize_activations 'expected_average_only_in' is not supported: the activations were scaled",
                            config: replacing("\"normalize_activations\": \"none\"", "\"normalize_activations\": \"expected_average_only_in\""))
        try assertLoadFails("topk", "cfg.json: field 'k' is 20; a topk autoencoder keeps 1 to d_sae (16) features", config: replacing("\"k\": 3", "\"k\": 20"))
        try assertLoadFails("standard", "cfg.json: field 'dtype' is 'float31'", config: replacing("\"float32\"", "\"float31\""))
        try assertLoadFails("standard", "cfg.json: d_in and d_sae must be 1 or more", config: replacing("\"d_in\": 8", "\"d_in\": 0"))
        try assertLoadFails("standard", "cfg.json: d_sae 16777216 with d_in 16777216 is too large",
                            config: replacing("\"d_in\": 8, \"d_sae\": 16", "\"d_in\": 16777216, \"d_sae\": 16777216"))
        let noConfig = try editedCopy("standard")
        defer { remove(noConfig) }
        try FileManager.default.removeItem(atPath: noConfig + "/cfg.json")
        assertThrows("no cfg.json in the folder") { try SparseAutoencoder.load(saeLensFolder: noConfig) }
        let noWeights = try editedCopy("standard")
        defer { remove(noWeights) }
        try FileManager.default.removeItem(atPath: noWeights + "/sae_weights.safetensors")
        assertThrows("no sae_weights.safetensors in the folder") { try SparseAutoencoder.load(saeLensFolder: noWeights) }
    }

    // MARK: - Edited copies of the fixtures

    func assertLoadFails(_ name: String, _ fragment: String, config: (inout String) -> Void = { _ in },
                         tensors: (inout [(String, Tensor)]) throws -> Void = { _ in },
                         weightsBytes: ((inout [UInt8]) -> Void)? = nil, file: StaticString = #filePath, line: UInt = #line) throws {
        let copy = try editedCopy(name, config: config, tensors: tensors)
        defer { remove(copy) }
        if let weightsBytes {
            let path = copy + "/sae_weights.safetensors"
            var bytes = try readFileBytes(path)
            weightsBytes(&bytes)
            try writeAtomically(bytes, to: path)
        }
        assertThrows(fragment, file: file, line: line) { try SparseAutoencoder.load(saeLensFolder: copy) }
    }

    /// A copy of a fixture folder with its cfg.json text and its tensors edited.
    func editedCopy(_ name: String, config: (inout String) -> Void = { _ in },
                    tensors edit: (inout [(String, Tensor)]) throws -> Void = { _ in }) throws -> String {
        let target = temporaryFolder()
        try FileManager.default.createDirectory(atPath: target, withIntermediateDirectories: true)
        var text = try String(contentsOfFile: folder(name) + "/cfg.json", encoding: .utf8)
        config(&text)
        try writeAtomically(Array(text.utf8), to: target + "/cfg.json")
        let file = try SafeTensors.read(folder(name) + "/sae_weights.safetensors")
        var tensors = file.order.compactMap { n in file.tensors[n].map { (n, $0) } }
        try edit(&tensors)
        try SafeTensors.write(tensors, to: target + "/sae_weights.safetensors")
        return target
    }

    func temporaryFolder() -> String { NSTemporaryDirectory() + "neuromap-saelens-\(UUID().uuidString)" }

    func remove(_ path: String) { try? FileManager.default.removeItem(atPath: path) }
}
