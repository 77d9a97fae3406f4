import XCTest
import NeuroEngine
import NeuroModels
@testable import NeuroAnalysis

final class PathPatchingTests: XCTestCase {
    func patching(norm: NormalizationType, direction: PatchDirection) throws -> ActivationPatching {
        let model = try PatchingFixtures.twoLayer(norm: norm)
        let clean = try PatchingFixtures.tokens(8, 5, seed: 13)
        return try ActivationPatching(model, clean: clean, corrupted: PatchingFixtures.corrupt(clean, positions: 3, seed: 14),
                                      metric: PatchingMetric(.logitDiff, labels: PatchingFixtures.ownLabels(model, clean)),
                                      direction: direction)
    }

    /// With every reader after the sender as a receiver, path patching is the
    /// ordinary patch of the sender.
    func testEveryReaderAsReceiverIsTheActivationPatch() throws {
        let qkv1: [PathReceiver] = [.query(layer: 1, head: nil), .key(layer: 1, head: nil), .value(layer: 1, head: nil)]
        let qkv0: [PathReceiver] = [.query(layer: 0, head: nil), .key(layer: 0, head: nil), .value(layer: 0, head: nil)]
        let perHead: [PathReceiver] = [.query(layer: 1, head: 0), .query(layer: 1, head: 1), .key(layer: 1, head: 0),
                                       .key(layer: 1, head: 1), .value(layer: 1, head: 1), .value(layer: 1, head: 0)]
        let cases: [(sender: PathSender, receivers: [PathReceiver], spec: SweepSpec, cell: Int)] = [
            (PathSender(HookPoint(.z, layer: 0), head: 1), [.mlp(layer: 0)] + qkv1 + [.mlp(layer: 1), .logits],
             SweepSpec(.z, by: [.head], layer: 0), 1),
            (PathSender(HookPoint(.z, layer: 0), head: 0), [.mlp(layer: 0)] + perHead + [.mlp(layer: 1), .logits],
             SweepSpec(.z, by: [.head], layer: 0), 0),
            (PathSender(HookPoint(.attnOut, layer: 0)), [.mlp(layer: 0)] + qkv1 + [.mlp(layer: 1), .logits],
             SweepSpec(.attnOut, by: [], layer: 0), 0),
            (PathSender(HookPoint(.mlpOut, layer: 0), position: 1), qkv1 + [.mlp(layer: 1), .logits],
             SweepSpec(.mlpOut, by: [.pos], layer: 0), 1),
            (PathSender(HookPoint(.embed)), qkv0 + [.mlp(layer: 0)] + qkv1 + [.mlp(layer: 1), .logits],
             SweepSpec(.embed, by: []), 0),
            (PathSender(HookPoint(.z, layer: 1), head: 0, position: 4), [.mlp(layer: 1), .logits],
             SweepSpec(.z, by: [.pos, .head], layer: 1), 8),
            (PathSender(HookPoint(.mlpOut, layer: 1)), [.logits], SweepSpec(.mlpOut, by: [], layer: 1), 0),
        ]
        for norm in [NormalizationType.layerNorm, .none] {
            for direction in PatchDirection.allCases {
                let engine = try patching(norm: norm, direction: direction)
                for c in cases {
                    let path = try engine.pathPatch(from: c.sender, to: c.receivers)
                    let full = try engine.sweep([c.spec]).values.toDoubles()[c.cell]
                    XCTAssertEqual(path.patched, full, accuracy: 1e-6 * max(1, abs(full)), "\(norm) \(direction) \(c.sender)")
                    XCTAssertNotEqual(path.patched, path.baseline, "\(norm) \(direction) \(c.sender) should have an effect")
                }
            }
        }
    }

    /// Without LayerNorm a receiver's input is linear in the residual stream:
    /// the path patch adds exactly Δ·W_Q of that head to its query.
    func testASingleReceiverSeesOnlyTheSendersChange() throws {
        let engine = try patching(norm: .none, direction: .denoise)
        let model = engine.model
        let z = HookPoint(.z, layer: 0)
        let (clean, corrupted) = try GradMode.withNoGrad {
            (try model.run(engine.clean, cache: .only([z])).cache, try model.run(engine.corrupted, cache: .only([z])).cache)
        }
        let manual = try GradMode.withNoGrad { () -> Double in
            guard let zc = clean[z], let zr = corrupted[z], let wO = model.parameter("blocks.0.attn.W_O"),
                  let wQ = model.parameter("blocks.1.attn.W_Q") else { throw EngineError(.argument, "missing") }
            let delta = try (zc - zr).select(axis: 2, index: 1).linear(wO.select(axis: 0, index: 1))       // [batch, pos, d_model]
            let change = try delta.linear(wQ.select(axis: 0, index: 0))                                    // [batch, pos, d_head]
            let hook = Hook(HookPoint(.q, layer: 1)) { q, _ in
                let heads = try [q.select(axis: 2, index: 0) + change, q.select(axis: 2, index: 1)]
                return try Tensor.stack(heads, axis: 2)
            }
            return try engine.metric.measure(model.run(engine.corrupted, hooks: [hook], positions: .last).logits)
        }
        let path = try engine.pathPatch(from: PathSender(z, head: 1), to: [.query(layer: 1, head: 0)])
        XCTAssertEqual(path.patched, manual, accuracy: 1e-5)
        XCTAssertNotEqual(path.patched, path.corrupted)
    }

    func testAChangeTheReceiverCannotReadHasNoEffect() throws {
        for norm in [NormalizationType.layerNorm, .none] {
            let engine = try patching(norm: norm, direction: .denoise)
            let r = try engine.pathPatch(from: PathSender(HookPoint(.z, layer: 1), head: 0, position: 2), to: [.logits])
            XCTAssertEqual(r.patched, r.corrupted, accuracy: 1e-6)
            XCTAssertEqual(try XCTUnwrap(r.normalized), 0, accuracy: 1e-5)
        }
    }

    func testMistakesAreNamed() throws {
        let engine = try patching(norm: .layerNorm, direction: .denoise)
        let cases: [(PathSender, [PathReceiver], String)] = [
            (PathSender(HookPoint(.z, layer: 0), head: 1), [.query(layer: 0, head: 0)],
             "path patch: q 0 head 0 reads the residual stream before z 0 head 1 writes to it; choose a later receiver"),
            (PathSender(HookPoint(.mlpOut, layer: 0)), [.mlp(layer: 0)],
             "path patch: mlp 0 reads the residual stream before mlp_out 0 writes to it; choose a later receiver"),
            (PathSender(HookPoint(.residPre, layer: 1)), [.logits],
             "path patch: the sender must write to the residual stream (embed, pos_embed, z, attn_out or mlp_out), not resid_pre"),
            (PathSender(HookPoint(.attnOut, layer: 0), head: 1), [.logits], "path patch: only a z sender has heads; blocks.0.hook_attn_out does not"),
            (PathSender(HookPoint(.z, layer: 0), head: 2), [.logits], "path patch: head 2 is out of range for a model with 2 heads"),
            (PathSender(HookPoint(.z, layer: 0)), [.key(layer: 1, head: 5)], "path patch: k 1 head 5: head 5 is out of range for a model with 2 heads"),
            (PathSender(HookPoint(.z, layer: 0)), [], "path patch: needs at least one receiver"),
        ]
        for (sender, receivers, message) in cases {
            XCTAssertThrowsError(try engine.pathPatch(from: sender, to: receivers)) { XCTAssertEqual("\($0)", message) }
        }
    }
}
