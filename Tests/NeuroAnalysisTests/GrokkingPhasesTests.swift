import XCTest
import Foundation
@testable import NeuroAnalysis

/// The phase rules on synthetic curves whose answers are known: shaped as
/// Nanda et al.'s p = 113 run (train loss fallen by epoch 200, test loss
/// peaking at 1,400, the final fall from 9,400, the norms settled at 13,300).
final class GrokkingPhasesTests: XCTestCase {
    static let chance = log(113.0)

    // Train loss: ln 113 falling by e every 40 epochs, below 1% of ln 113 from epoch 200 on.
    static func train(_ e: Int) -> Double { max(chance * exp(-Double(e) / 40), 1e-7) }
    // Test loss: rises to 20 at 1,400, drifts to 10 by 9,400, then falls a decade every 300 epochs to 1e-5.
    static func test(_ e: Int) -> Double {
        if e <= 1400 { return chance + (20 - chance) * Double(e) / 1400 }
        if e <= 9400 { return 20 - 10 * Double(e - 1400) / 8000 }
        return max(10 * pow(10, -Double(e - 9400) / 300), 1e-5)
    }
    // Σw²: slow fall to 9,400, then 1,300 → 850 by 13,300 (over 1% per 100 epochs), then flat.
    static func norm(_ e: Int) -> Double {
        if e <= 9400 { return 1400 - Double(e) / 94 }
        if e <= 13300 { return 1300 - 450 * Double(e - 9400) / 3900 }
        return 850
    }
    // Gini of W_logit: 0.78 until 11,000, rising to 0.89 at 13,300 (0.5% per 100 epochs), then flat.
    static func gini(_ e: Int) -> Double {
        if e <= 11000 { return 0.78 }
        if e <= 13300 { return 0.78 + 0.11 * Double(e - 11000) / 2300 }
        return 0.89
    }
    // Excluded loss rises 0.01 → 5.01 and restricted loss falls 4.5 → 0.5 over circuit formation.
    static func excluded(_ e: Int) -> Double { e <= 1400 ? 0.01 : (e <= 9400 ? 0.01 + 5 * Double(e - 1400) / 8000 : 5) }
    static func restricted(_ e: Int) -> Double { e <= 1400 ? 4.5 : (e <= 9400 ? 4.5 - 4 * Double(e - 1400) / 8000 : 0.1) }

    /// Curves every 100 epochs up to `last`; any curve may be replaced.
    static func curves(through last: Int = 20000, trainLoss: (Int) -> Double = train, weightNorm: (Int) -> Double = norm,
                       giniLogit: (Int) -> Double = gini, excluded excludedLoss: (Int) -> Double = excluded) -> PhaseCurves {
        let epochs = Array(stride(from: 0, through: last, by: 100))
        let settling: [(name: String, values: [Double])] = [("Σw²", epochs.map { weightNorm($0) }),
                                                            ("Gini W_E", epochs.map { _ in 0.6 }),
                                                            ("Gini W_logit", epochs.map { giniLogit($0) })]
        return PhaseCurves(epochs: epochs, trainLoss: epochs.map { trainLoss($0) }, testLoss: epochs.map { test($0) },
                           restrictedLoss: epochs.map { restricted($0) }, excludedLoss: epochs.map { excludedLoss($0) },
                           settling: settling, chanceLoss: chance)
    }

    func testTheThreePhasesOfAGrokkingRun() {
        let phases = GrokkingPhases(Self.curves())
        XCTAssertEqual(phases.memorization, 0...1400, "memorisation ends at the test-loss peak, not where the train loss fell (200)")
        XCTAssertEqual(phases.circuitFormation, 1400...9400)
        XCTAssertEqual(phases.cleanup, 9400...13300, "cleanup ends when Σw² and the Ginis stop moving")
        XCTAssertEqual(phases.description, "memorisation 0–1400, circuit formation 1400–9400, cleanup 9400–13300")
        XCTAssertEqual(phases.excludedRises, true)
        XCTAssertEqual(phases.restrictedFalls, true)
        XCTAssertEqual(phases.checks, ["the excluded loss rises (0.01 at epoch 1400 → 5.01 at epoch 9400)",
                                       "the restricted loss falls (4.5 at epoch 1400 → 0.5 at epoch 9400)"])
        // What was measured at each boundary.
        XCTAssertTrue(phases.memorizationEnd.measured.hasPrefix("test loss peaks at 20; train loss first below 0.0473 at epoch 200"),
                      phases.memorizationEnd.measured)
        XCTAssertTrue(phases.grokkingOnset.measured.contains("steepest 0.00333 per epoch"), phases.grokkingOnset.measured)
        XCTAssertTrue(phases.cleanupEnd.measured.contains("Σw² 1.3e+03 → 850"), phases.cleanupEnd.measured)
    }

    func testTheRulesAreStatedWithTheirNumbers() {
        let phases = GrokkingPhases(Self.curves())
        XCTAssertEqual(phases.memorizationEnd.rule,
                       "the test-loss peak after the train loss has fallen below 0.0473 (1% of the chance loss 4.73), "
                       + "before the test loss first gets below 0.473")
        XCTAssertTrue(phases.grokkingOnset.rule.contains("faster than 10% of the fall's steepest slope"), phases.grokkingOnset.rule)
        XCTAssertTrue(phases.grokkingOnset.rule.contains("below 0.473 (10% of the chance loss)"), phases.grokkingOnset.rule)
        XCTAssertEqual(phases.cleanupEnd.rule, "the first checkpoint from the grokking onset on after which Σw², Gini W_E, Gini W_logit "
                       + "each stay within 1% of their value there for 1000 epochs (unsmoothed)")
        let lines = phases.explanation
        XCTAssertEqual(lines.count, 8)
        XCTAssertTrue(lines[0].hasPrefix("memorisation ends: epoch 1400 — test loss peaks at 20"), lines[0])
        XCTAssertTrue(lines[1].hasPrefix("  rule: the test-loss peak"), lines[1])
        XCTAssertTrue(lines[4].hasPrefix("cleanup ends: epoch 13300 — over the next 1000 epochs"), lines[4])
        // A looser tolerance says so and ends cleanup sooner: Σw² moves 1.3% per 100 epochs before 13,300.
        let loose = GrokkingPhases(Self.curves(), rules: PhaseRules(settleWindow: 1000, settleTolerance: 0.2))
        XCTAssertTrue(loose.cleanupEnd.rule.contains("within 20% of their value there for 1000 epochs"), loose.cleanupEnd.rule)
        XCTAssertLessThan(loose.cleanupEnd.epoch!, 13300)
    }

    func testASpikeAfterGrokkingIsNotThePeak() {
        // A loss spike to 30 (above the memorisation peak of 20) at 16,000, long after grokking.
        var curves = Self.curves()
        let spike = curves.epochs.firstIndex(of: 16000)!
        curves.testLoss[spike] = 30
        let phases = GrokkingPhases(curves)
        XCTAssertEqual(phases.memorization, 0...1400)
        XCTAssertEqual(phases.circuitFormation, 1400...9400)
        XCTAssertEqual(phases.cleanup, 9400...13300)
    }

    func testTheLastCurveToSettleEndsCleanup() {
        // Σw² flat from 12,000; the Gini of W_logit rises 0.02 per 100 epochs until 15,000.
        let phases = GrokkingPhases(Self.curves(
            weightNorm: { e in e <= 12000 ? 1300 - 450 * Double(e) / 12000 : 850 },
            giniLogit: { e in e <= 11000 ? 0.1 : (e <= 15000 ? 0.1 + 0.8 * Double(e - 11000) / 4000 : 0.9) }))
        XCTAssertEqual(phases.cleanupEnd.epoch, 15000)
        XCTAssertTrue(phases.cleanupEnd.measured.contains("Gini W_logit 0.1 → 0.9"), phases.cleanupEnd.measured)
    }

    func testTooFewCheckpointsLeaveEveryPhaseUndefined() {
        var curves = Self.curves(through: 100)
        XCTAssertEqual(curves.epochs, [0, 100])
        var phases = GrokkingPhases(curves)
        XCTAssertNil(phases.memorization)
        XCTAssertNil(phases.circuitFormation)
        XCTAssertNil(phases.cleanup)
        XCTAssertEqual(phases.memorizationEnd.measured, "only 2 checkpoints; the phases need at least 3")
        XCTAssertEqual(phases.cleanupEnd.measured, "only 2 checkpoints; the phases need at least 3")
        XCTAssertEqual(phases.description, "memorisation undefined, circuit formation undefined, cleanup undefined")
        curves.testLoss.removeLast()
        phases = GrokkingPhases(curves)
        XCTAssertEqual(phases.memorizationEnd.measured, "the curves have different lengths or the epochs do not increase")
    }

    func testATrainLossThatNeverFallsLeavesMemorisationUndefined() {
        let phases = GrokkingPhases(Self.curves(trainLoss: { e in 4.7 - Double(e) / 10000 }))
        XCTAssertNil(phases.memorizationEnd.epoch)
        XCTAssertEqual(phases.memorizationEnd.measured, "the train loss never falls below 0.0473 (lowest 2.7 at epoch 20000)")
        XCTAssertNil(phases.grokkingOnset.epoch)
        XCTAssertEqual(phases.grokkingOnset.measured, "the end of memorisation, before it, is undefined")
        XCTAssertNil(phases.cleanupEnd.epoch)
        XCTAssertEqual(phases.cleanupEnd.measured, "the grokking onset, its start, is undefined")
        // Fallen only at the last checkpoint: no later one can show the peak.
        let late = GrokkingPhases(Self.curves(through: 2000, trainLoss: { e in e < 2000 ? 1 : 0.01 }))
        XCTAssertEqual(late.memorizationEnd.measured,
                       "the train loss falls below 0.0473 only at the last checkpoint (epoch 2000): no later checkpoint shows the test-loss peak")
    }

    func testATestLossStillRisingAtTheEndHasNoPeak() {
        let phases = GrokkingPhases(Self.curves(through: 1200))
        XCTAssertNil(phases.memorization)
        XCTAssertTrue(phases.memorizationEnd.measured.hasPrefix("the test loss is still rising at the last checkpoint (epoch 1200: 17.8)"),
                      phases.memorizationEnd.measured)
    }

    func testARunThatHasNotGrokkedHasNoOnsetNorCleanup() {
        let phases = GrokkingPhases(Self.curves(through: 9000))
        XCTAssertEqual(phases.memorization, 0...1400)
        XCTAssertNil(phases.circuitFormation)
        XCTAssertNil(phases.cleanup)
        XCTAssertEqual(phases.grokkingOnset.measured, "the run has not grokked: the test loss ends at 10.5 (epoch 9000), not below 0.473")
        XCTAssertEqual(phases.named.map(\.why), ["", phases.grokkingOnset.measured, "its start, the grokking onset, is undefined"])
        XCTAssertEqual(phases.checks, ["the excluded loss is not checked: circuit formation is not closed",
                                       "the restricted loss is not checked: circuit formation is not closed"])
    }

    func testARunEndingSoonAfterTheOnsetCannotCloseCleanup() {
        let phases = GrokkingPhases(Self.curves(through: 10200))
        XCTAssertEqual(phases.circuitFormation, 1400...9400)
        XCTAssertNil(phases.cleanup)
        XCTAssertEqual(phases.cleanupEnd.measured, "the run ends 800 epochs after the grokking onset, less than one window of 1000 epochs")
    }

    func testNormsStillMovingAtTheEndLeaveCleanupOpen() {
        let phases = GrokkingPhases(Self.curves(weightNorm: { e in 2000 * exp(-Double(e) / 20000) }))
        XCTAssertEqual(phases.circuitFormation, 1400...9400)
        XCTAssertNil(phases.cleanupEnd.epoch)
        XCTAssertTrue(phases.cleanupEnd.measured.hasPrefix("still moving at the end of the run: over the last full window (epochs 19000–20000) Σw² 4.88%"),
                      phases.cleanupEnd.measured)
        XCTAssertFalse(phases.cleanupEnd.measured.contains("Gini W_logit"), "only the curves still moving are named")
    }

    func testAFailedCheckIsSaid() {
        let phases = GrokkingPhases(Self.curves(excluded: { e in 3 - Double(e) / 10000 }))
        XCTAssertEqual(phases.excludedRises, false)
        XCTAssertEqual(phases.checks.first, "the excluded loss does not rise (2.86 at epoch 1400 → 2.06 at epoch 9400)")
        // Without the losses the check says they were not measured.
        var curves = Self.curves()
        curves.restrictedLoss = nil
        curves.excludedLoss = nil
        let unmeasured = GrokkingPhases(curves)
        XCTAssertNil(unmeasured.excludedRises)
        XCTAssertEqual(unmeasured.checks, ["no excluded loss was measured", "no restricted loss was measured"])
        XCTAssertEqual(unmeasured.cleanup, 9400...13300, "the phases do not depend on the restricted and excluded losses")
    }
}
