import XCTest
import NeuroEngine
@testable import NeuroModels

final class HookedTransformerTests: XCTestCase {
    func makeModel(norm: NormalizationType = .layerNorm, dMLP: Int = 16) throws -> HookedTransformer {
        let config = try TransformerConfig(nLayers: 2, nHeads: 2, dModel: 8, dHead: 4, dMLP: dMLP, actFn: .gelu,
                                           normalizationType: norm, dVocab: 10, nCtx: 5, seed: 1)
        return try HookedTransformer(config: config)
    }

    func testHookPointsMatchTransformerLensNames() throws {
        let model = try makeModel()
        XCTAssertEqual(model.hookPoints.count, 40)
        XCTAssertEqual(model.hookPoints.first?.name, "hook_embed")
        XCTAssertEqual(model.hookPoints.last?.name, "unembed.hook_out")
        XCTAssertEqual(try model.hookPoint(named: "pattern1").name, "blocks.1.attn.hook_pattern")
        XCTAssertEqual(try model.hooks.point(short: "resid_pre", layer: -1).name, "blocks.1.hook_resid_pre")
        XCTAssertEqual(try model.hookPoint(named: "scale0ln2").name, "blocks.0.ln2.hook_scale")
        XCTAssertThrowsError(try model.hookPoint(named: "blocks.0.attn.hook_patern")) { error in
            XCTAssertTrue("\(error)".contains("did you mean 'blocks.0.attn.hook_pattern'"), "\(error)")
        }
    }

    func testLastPositionOnlyMatchesFullForward() throws {
        let model = try makeModel()
        let tokens = try Tensor(ints: [1, 2, 3, 4, 5, 6, 7, 8, 9], shape: [3, 3])
        let full = try model.run(tokens).logits
        let last = try model.run(tokens, positions: .last).logits
        let fullLast = try full.select(axis: 1, index: -1)
        XCTAssertEqual(last.shape, [3, 10])
        let a = last.toDoubles(), b = fullLast.toDoubles()
        for i in 0..<a.count { XCTAssertEqual(a[i], b[i], accuracy: 1e-5) }
    }

    func testCacheHasEveryHookWithTransformerLensShapes() throws {
        let model = try makeModel()
        let tokens = try Tensor(ints: [1, 2, 3], shape: [1, 3])
        let (_, cache) = try model.run(tokens, cache: .all)
        XCTAssertEqual(cache.count, 40)
        XCTAssertEqual(try cache["blocks.0.attn.hook_q"].shape, [1, 3, 2, 4])
        XCTAssertEqual(try cache["blocks.0.attn.hook_pattern"].shape, [1, 2, 3, 3])
        XCTAssertEqual(try cache["blocks.1.ln2.hook_scale"].shape, [1, 3, 1])
        XCTAssertEqual(try cache["unembed.hook_out"].shape, [1, 3, 10])
    }
}
