import XCTest
import NeuroEngine
@testable import NeuroModels

/// The resolver's errors: exact messages, and every name they suggest typed
/// back in and resolved.
final class HookResolverTests: XCTestCase {
    private func resolver(layers: Int = 2, norm: NormalizationType = .layerNorm, dMLP: Int = 16) throws -> HookResolver {
        let config = try TransformerConfig(nLayers: layers, nHeads: 2, dModel: 8, dHead: 4, dMLP: dMLP, actFn: .relu,
                                           normalizationType: norm, dVocab: 10, nCtx: 5, seed: 1)
        return try HookedTransformer(config: config).hooks
    }

    private func message(_ body: () throws -> HookPoint) -> String {
        do {
            let point = try body()
            return "resolved to \(point.name)"
        } catch {
            return "\(error)"
        }
    }

    /// The quoted names after "did you mean" or "e.g." in a message.
    private func suggested(in message: String) -> [String] {
        guard let start = message.range(of: "did you mean ") ?? message.range(of: "e.g. ") else { return [] }
        return message[start.upperBound...].split(separator: "'", omittingEmptySubsequences: false)
            .enumerated().filter { $0.offset % 2 == 1 }.map { String($0.element) }
    }

    func testMessagesSuggestNamesTheLanguageAccepts() throws {
        let oneLayer = try resolver(layers: 1, norm: .none)
        XCTAssertEqual(message { try oneLayer.point(named: "mlp_post") },
                       "hook 'mlp_post' needs a layer (0 to 0), e.g. 'mlp_post 0' or 'blocks.0.mlp.hook_post'")
        XCTAssertEqual(message { try oneLayer.point(named: "hook_resid_post") },
                       "unknown hook 'hook_resid_post'; did you mean 'blocks.0.hook_resid_post'?")
        XCTAssertEqual(message { try oneLayer.point(named: "patern 0") }, "unknown hook 'patern 0'; did you mean 'pattern 0'?")
        XCTAssertEqual(message { try oneLayer.point(short: "patern", layer: 0) }, "unknown hook 'patern 0'; did you mean 'pattern 0'?")
        XCTAssertEqual(message { try oneLayer.point(named: "embd") }, "unknown hook 'embd'; did you mean 'embed'?")
        XCTAssertEqual(message { try oneLayer.point(named: "embed 0") },
                       "hook 'embed' takes no layer (it is outside the blocks); did you mean 'embed'?")
        XCTAssertEqual(message { try oneLayer.point(named: "mlp_post 3") },
                       "hook 'mlp_post': layer 3 is out of range for a model with 1 layer")
        let normed = try resolver(layers: 2)
        XCTAssertEqual(message { try normed.point(named: "scale 0") },
                       "hook 'scale 0' is ambiguous: name the layer norm; did you mean 'blocks.0.ln1.hook_scale', 'blocks.0.ln2.hook_scale'?")
        XCTAssertEqual(message { try normed.point(named: "ln1.hook_scale") },
                       "unknown hook 'ln1.hook_scale'; did you mean 'blocks.0.ln1.hook_scale', 'blocks.1.ln1.hook_scale'?")
    }

    func testTheLanguagesShortFormResolvesEverywhere() throws {
        let resolver = try self.resolver(layers: 2)
        for point in resolver.points {
            XCTAssertEqual(try resolver.point(named: point.shortForm), point, point.shortForm)
            XCTAssertEqual(try resolver.point(named: point.name), point, point.name)
        }
        XCTAssertEqual(try resolver.point(named: "mlp_post -1").name, "blocks.1.mlp.hook_post")
        XCTAssertEqual(try resolver.point(named: "scale 1 ln2").name, "blocks.1.ln2.hook_scale")
        XCTAssertEqual(try resolver.point(named: "scale1ln2").name, "blocks.1.ln2.hook_scale")
        XCTAssertEqual(message { try resolver.point(named: "pattern0xyz") }, "unknown hook 'pattern0xyz'")
    }

    /// Every name a message suggests, typed back in, resolves (no `('post', 0)`, no bare `resid_post`).
    func testEverySuggestionResolves() throws {
        let typos = ["mlp_post", "post", "mlp_pst", "mlp_pst 0", "mlp_pst0", "hook_resid_post", "resid_post", "resid_pst 1",
                     "patern 0", "patern0", "patern", "pattern", "pattern 0 ln1", "embd", "embd 0", "embed 1", "pos_embd",
                     "blocks.0.mlp.hook_pst", "blocks.0.hook_resid", "ln1.hook_scale", "hook_scale", "scale 0", "scle 0",
                     "scle 0 ln1", "scale 0 ln3", "normalized 1", "z", "q", "k 7", "attn", "attn_scores", "unembed_in 0",
                     "mlp_out", "resid_pre -9", "hook_mlp_out", "attn.hook_pattern"]
        let models = [try resolver(layers: 1, norm: .none), try resolver(layers: 2), try resolver(layers: 3, dMLP: 0),
                      try resolver(layers: 2, norm: .layerNormPre)]
        var checked = 0
        for model in models {
            for typo in typos {
                let text = message { try model.point(named: typo) }
                for suggestion in suggested(in: text) {
                    checked += 1
                    XCTAssertNoThrow(try model.point(named: suggestion), "'\(typo)' → \(text): '\(suggestion)' does not resolve")
                }
            }
        }
        XCTAssertGreaterThan(checked, 60, "the typos should draw suggestions")
    }

    func testNamesWithoutAModel() {
        XCTAssertNil(HookResolver.problem(spelling: "blocks.11.attn.hook_pattern"))
        XCTAssertNil(HookResolver.problem(spelling: "pattern 7"))
        // Names only pretrained encoders have pass a check that knows no model.
        for name in ["blocks.0.hook_normalized_resid_post", "normalized_resid_post 3", "embed.hook_token_type_embed",
                     "hook_full_embed", "embed.ln.hook_scale", "mlm_head.ln.hook_normalized"] {
            XCTAssertNil(HookResolver.problem(spelling: name), name)
        }
        XCTAssertEqual(HookResolver.problem(spelling: "embd"), "unknown hook 'embd'; did you mean 'embed'?")
        XCTAssertNil(HookResolver.problem(spelling: "scale 0"), "ambiguous only in models with two layer norms")
        XCTAssertNil(HookResolver.problem(spelling: "post0"))
        XCTAssertNil(HookResolver.problem(spelling: "scale"))
        XCTAssertNil(HookResolver.problem(spelling: "mlp_post", layerFollows: true))
        XCTAssertNil(HookResolver.problem(spelling: "resid_pre -40"))
        XCTAssertEqual(HookResolver.problem(spelling: "mlp_pst", layerFollows: true), "unknown hook 'mlp_pst'; did you mean 'mlp_post', 'mlp_out', 'mlp_pre'?")
        XCTAssertEqual(HookResolver.problem(spelling: "mlp_pst 2"), "unknown hook 'mlp_pst 2'; did you mean 'mlp_post 2', 'mlp_out 2', 'mlp_pre 2'?")
        XCTAssertEqual(HookResolver.problem(spelling: "mlp_post"), "hook 'mlp_post' needs a layer, e.g. 'mlp_post 0' or 'blocks.0.mlp.hook_post'")
        XCTAssertEqual(HookResolver.problem(spelling: "embed", layerFollows: true),
                       "hook 'embed' takes no layer (it is outside the blocks); did you mean 'embed'?")
        XCTAssertEqual(HookResolver.problem(spelling: "blocks.3.mlp.hook_pst"),
                       "unknown hook 'blocks.3.mlp.hook_pst'; did you mean 'blocks.3.mlp.hook_post', 'blocks.3.mlp.hook_pre'?")
    }
}
