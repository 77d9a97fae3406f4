import XCTest
import NeuroLanguage
@testable import NeuroLab

/// What the golden scripts cannot check exactly because the numbers depend
/// on floating point: that interventions written in the language move the
/// metric the way they must on a trained model.
final class InterventionStatementTests: XCTestCase {
    func testAblatingTheWholeResidualStreamDestroysAccuracy() throws {
        let interpreter = NeuroLab.makeInterpreter()
        interpreter.output = { _ in }
        let script = """
            data = modular(p: 7, train: 0.9, seed: 1)
            model = transformer(data, layers: 1, heads: 2, d_model: 32, d_mlp: 64, seed: 0)
            train model on data epochs 150 lr 1e-2 wd 0
            zeroed = ablate("resid_post 0", with: "zero")
            averaged = ablate("resid_post 0", with: "mean")
            one_neuron = ablate("mlp_post 0", with: "zero", neuron: 0)
            patched = patch("resid_pre 0", with: corrupt(a + 1))
            """
        let parsed = NeuroLab.parse(script)
        XCTAssertEqual(parsed.diagnostics, [])
        try interpreter.run(parsed.program)
        /// A field of a result, as the script would read it (`zeroed.patched`).
        func field(_ name: String, _ field: String) throws -> Double {
            guard case .object(let object)? = interpreter.globals.lookup(name), case .number(let value)? = try object.field(field) else {
                XCTFail("\(name).\(field) is not a number")
                return .nan
            }
            return value
        }
        XCTAssertGreaterThan(try field("zeroed", "clean"), 0.8, "the model should fit its (mostly training) data")
        // With nothing in the residual stream every input gets the same logits: chance level, 1/7.
        XCTAssertLessThan(try field("zeroed", "patched"), 0.3)
        XCTAssertLessThan(try field("averaged", "patched"), 0.3)
        XCTAssertGreaterThan(try field("zeroed", "effect"), 0.5)
        // One neuron of 64 matters far less than everything.
        XCTAssertLessThan(try field("one_neuron", "effect"), try field("zeroed", "effect"))
        // Patching the whole residual stream from corrupted inputs moves all of the effect.
        XCTAssertEqual(try field("patched", "effect"), 1, accuracy: 1e-9)
    }
}
