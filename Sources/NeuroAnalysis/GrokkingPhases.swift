import Foundation

/// The curves of a training run that the phases of grokking are read from,
/// one value per checkpoint. Nothing here knows how the restricted and
/// excluded losses were made (Fourier directions for modular arithmetic,
/// representations for a group): they come in as curves.
public struct PhaseCurves: Sendable {
    public var epochs: [Int]
    public var trainLoss: [Double]
    public var testLoss: [Double]
    /// The loss with only the key components kept; nil when not measured.
    public var restrictedLoss: [Double]?
    /// The training loss with the key components removed; nil when not measured.
    public var excludedLoss: [Double]?
    /// The quantities whose settling ends cleanup (Σw², Gini coefficients…), each named.
    public var settling: [(name: String, values: [Double])]
    /// The loss of a uniform guess, ln(number of classes): the scale of "fallen" and "grokked".
    public var chanceLoss: Double

    public init(epochs: [Int], trainLoss: [Double], testLoss: [Double], restrictedLoss: [Double]? = nil,
                excludedLoss: [Double]? = nil, settling: [(name: String, values: [Double])], chanceLoss: Double) {
        self.epochs = epochs
        self.trainLoss = trainLoss
        self.testLoss = testLoss
        self.restrictedLoss = restrictedLoss
        self.excludedLoss = excludedLoss
        self.settling = settling
        self.chanceLoss = chanceLoss
    }
}

/// The numbers in the rules that locate the phases; each is stated in the result.
public struct PhaseRules: Sendable, Equatable {
    /// The train loss "has fallen" below this fraction of the chance loss.
    public var trainFallenFraction = 0.01
    /// A run "has grokked" when its last test loss is below this fraction of the chance loss.
    public var grokkedFraction = 0.1
    /// The final fall runs while log₁₀ test loss falls faster than this fraction of its steepest rate.
    public var onsetSlopeFraction = 0.1
    /// Cleanup ends where every settling curve stays within `settleTolerance`
    /// (relative) of its value for the next `settleWindow` epochs.
    public var settleWindow = 1000
    public var settleTolerance = 0.01

    public init(settleWindow: Int = 1000, settleTolerance: Double = 0.01) {
        self.settleWindow = settleWindow
        self.settleTolerance = settleTolerance
    }
}

/// One boundary between phases: its epoch (nil when the checkpoints cannot
/// locate it), the rule that places it, and what was measured there (or why
/// it is undefined).
public struct PhaseBoundary: Sendable, Equatable {
    public let epoch: Int?
    public let rule: String
    public let measured: String
}

/// The three phases of grokking (Nanda et al. 2023), located on a run's
/// curves by explicit rules:
///
/// - memorisation ends at the test-loss peak after the train loss has fallen
///   (below `trainFallenFraction` of the chance loss);
/// - circuit formation runs from there to the grokking onset, the start of
///   the test loss's final fall (the excluded loss should rise and the
///   restricted loss fall over it; `checks` says whether they do);
/// - cleanup runs from the onset until every settling curve (Σw², Ginis)
///   stops moving: within `settleTolerance` of its value for `settleWindow` epochs.
///
/// A boundary the checkpoints cannot place (too few, a run too short, no
/// grokking) is nil with the reason in its `measured` text, never guessed.
///
/// ```swift
/// let phases = GrokkingPhases(curves)
/// print(phases)   // memorisation 0–1400, circuit formation 1400–9400, cleanup 9400–13300
/// ```
public struct GrokkingPhases: Sendable, CustomStringConvertible {
    /// The first checkpoint's epoch; nil with no checkpoints.
    public let start: Int?
    public let memorizationEnd: PhaseBoundary
    public let grokkingOnset: PhaseBoundary
    public let cleanupEnd: PhaseBoundary
    /// Over circuit formation: whether the excluded loss rises and the restricted loss falls (nil: not measured or no phase).
    public let excludedRises: Bool?
    public let restrictedFalls: Bool?
    /// The checks above in words (or why they were not made).
    public let checks: [String]
    public let rules: PhaseRules

    public var memorization: ClosedRange<Int>? { Self.range(start, memorizationEnd.epoch) }
    public var circuitFormation: ClosedRange<Int>? { Self.range(memorizationEnd.epoch, grokkingOnset.epoch) }
    public var cleanup: ClosedRange<Int>? { Self.range(grokkingOnset.epoch, cleanupEnd.epoch) }

    /// Each phase by name with its range, or why it is undefined.
    public var named: [(name: String, range: ClosedRange<Int>?, why: String)] {
        [("memorization", memorization, memorizationEnd.epoch == nil ? memorizationEnd.measured : ""),
         ("circuit_formation", circuitFormation,
          memorizationEnd.epoch == nil ? "its start, the end of memorisation, is undefined" : grokkingOnset.measured),
         ("cleanup", cleanup, grokkingOnset.epoch == nil ? "its start, the grokking onset, is undefined" : cleanupEnd.measured)]
    }

    public var description: String {
        named.map { phase in
            let label = phase.name.replacingOccurrences(of: "_", with: " ").replacingOccurrences(of: "memorization", with: "memorisation")
            return phase.range.map { "\(label) \($0.lowerBound)–\($0.upperBound)" } ?? "\(label) undefined"
        }.joined(separator: ", ")
    }

    /// The rules and what each boundary measured, one line each, for printing under a result.
    public var explanation: [String] {
        [("memorisation ends", memorizationEnd), ("grokking onset", grokkingOnset), ("cleanup ends", cleanupEnd)].flatMap { name, b in
            ["\(name): " + (b.epoch.map { "epoch \($0)" } ?? "undefined") + " — \(b.measured)", "  rule: \(b.rule)"]
        } + checks.map { "circuit formation: \($0)" }
    }

    static func range(_ from: Int?, _ to: Int?) -> ClosedRange<Int>? {
        guard let from, let to, to >= from else { return nil }
        return from...to
    }

    // MARK: - The rules

    /// Locates the phases on `curves` by `rules`.
    public init(_ curves: PhaseCurves, rules: PhaseRules = PhaseRules()) {
        self.rules = rules
        let epochs = curves.epochs, n = epochs.count
        start = epochs.first
        let fallen = rules.trainFallenFraction * curves.chanceLoss
        let grokked = rules.grokkedFraction * curves.chanceLoss
        let settlingNames = curves.settling.map(\.name).joined(separator: ", ")
        let memorizationRule = "the test-loss peak after the train loss has fallen below \(Self.g(fallen)) "
            + "(\(Self.percent(rules.trainFallenFraction)) of the chance loss \(Self.g(curves.chanceLoss))), "
            + "before the test loss first gets below \(Self.g(grokked))"
        let onsetRule = "the start of the test loss's final fall: walking back from where log₁₀ test loss first gets halfway "
            + "from its peak to its last value, the earliest checkpoint from which every step falls faster than "
            + "\(Self.percent(rules.onsetSlopeFraction)) of the fall's steepest slope; only once the last test loss is below "
            + "\(Self.g(grokked)) (\(Self.percent(rules.grokkedFraction)) of the chance loss)"
        let cleanupRule = "the first checkpoint from the grokking onset on after which \(settlingNames.isEmpty ? "the settling curves" : settlingNames) "
            + "each stay within \(Self.percent(rules.settleTolerance)) of their value there for \(rules.settleWindow) epochs (unsmoothed)"

        // With memorisation undefined the later boundaries say so; too few checkpoints is said of all three.
        func undefinedAll(_ why: String, chained: Bool = true) -> (PhaseBoundary, PhaseBoundary, PhaseBoundary) {
            (PhaseBoundary(epoch: nil, rule: memorizationRule, measured: why),
             PhaseBoundary(epoch: nil, rule: onsetRule, measured: chained ? "the end of memorisation, before it, is undefined" : why),
             PhaseBoundary(epoch: nil, rule: cleanupRule, measured: chained ? "the grokking onset, its start, is undefined" : why))
        }
        let consistent = curves.trainLoss.count == n && curves.testLoss.count == n
            && (curves.restrictedLoss?.count ?? n) == n && (curves.excludedLoss?.count ?? n) == n
            && curves.settling.allSatisfy { $0.values.count == n } && zip(epochs, epochs.dropFirst()).allSatisfy { $0 < $1 }
        guard consistent, n >= 3 else {
            let why = consistent ? "only \(n) checkpoint\(n == 1 ? "" : "s"); the phases need at least 3"
                : "the curves have different lengths or the epochs do not increase"
            (memorizationEnd, grokkingOnset, cleanupEnd) = undefinedAll(why, chained: false)
            (excludedRises, restrictedFalls, checks) = (nil, nil, [])
            return
        }

        // Memorisation: the test-loss peak once the train loss has fallen.
        guard let fell = curves.trainLoss.firstIndex(where: { $0 < fallen }) else {
            let lowest = curves.trainLoss.indices.min { curves.trainLoss[$0] < curves.trainLoss[$1] } ?? 0
            let why = "the train loss never falls below \(Self.g(fallen)) (lowest \(Self.g(curves.trainLoss[lowest])) at epoch \(epochs[lowest]))"
            (memorizationEnd, grokkingOnset, cleanupEnd) = undefinedAll(why)
            (excludedRises, restrictedFalls, checks) = (nil, nil, [])
            return
        }
        let test = curves.testLoss
        // Searched before the test loss first gets below the grokked level, so a spike after grokking is not the peak.
        let searchEnd = Swift.max((fell..<n).first { test[$0] < grokked } ?? n, fell + 1)
        let peak = (fell..<searchEnd).max { test[$0] < test[$1] } ?? fell   // the first of equal maxima
        let fellText = "train loss first below \(Self.g(fallen)) at epoch \(epochs[fell]) (\(Self.g(curves.trainLoss[fell])))"
        guard peak < n - 1 else {
            let why = fell == n - 1
                ? "the train loss falls below \(Self.g(fallen)) only at the last checkpoint (epoch \(epochs[fell])): no later checkpoint shows the test-loss peak"
                : "the test loss is still rising at the last checkpoint (epoch \(epochs[n - 1]): \(Self.g(test[n - 1]))); \(fellText)"
            (memorizationEnd, grokkingOnset, cleanupEnd) = undefinedAll(why)
            (excludedRises, restrictedFalls, checks) = (nil, nil, [])
            return
        }
        memorizationEnd = PhaseBoundary(epoch: epochs[peak], rule: memorizationRule,
                                        measured: "test loss peaks at \(Self.g(test[peak])); \(fellText)")

        // Grokking onset: the start of the final fall of log test loss.
        let onset = Self.onset(epochs: epochs, test: test, peak: peak, grokked: grokked, slopeFraction: rules.onsetSlopeFraction)
        grokkingOnset = PhaseBoundary(epoch: onset.index.map { epochs[$0] }, rule: onsetRule, measured: onset.measured)

        // Circuit formation: the excluded loss should rise and the restricted loss fall over it.
        var checks: [String] = []
        func check(_ name: String, _ values: [Double]?, rising: Bool) -> Bool? {
            guard let values else { checks.append("no \(name) loss was measured"); return nil }
            guard let end = onset.index, end > peak else {
                checks.append("the \(name) loss is not checked: circuit formation is " + (onset.index == nil ? "not closed" : "empty"))
                return nil
            }
            let (a, b) = (values[peak], values[end])
            let holds = rising ? b > a : b < a
            checks.append("the \(name) loss \(holds ? (rising ? "rises" : "falls") : (rising ? "does not rise" : "does not fall")) "
                          + "(\(Self.g(a)) at epoch \(epochs[peak]) → \(Self.g(b)) at epoch \(epochs[end]))")
            return holds
        }
        excludedRises = check("excluded", curves.excludedLoss, rising: true)
        restrictedFalls = check("restricted", curves.restrictedLoss, rising: false)
        self.checks = checks

        // Cleanup: until the settling curves stop moving.
        guard let from = onset.index else {
            cleanupEnd = PhaseBoundary(epoch: nil, rule: cleanupRule, measured: "there is no grokking onset to start from")
            return
        }
        let settled = Self.settled(epochs: epochs, settling: curves.settling, from: from, rules: rules)
        cleanupEnd = PhaseBoundary(epoch: settled.index.map { epochs[$0] }, rule: cleanupRule, measured: settled.measured)
    }

    /// The checkpoint where the final fall of the test loss starts, or why there is none.
    static func onset(epochs: [Int], test: [Double], peak: Int, grokked: Double, slopeFraction: Double) -> (index: Int?, measured: String) {
        let n = epochs.count, last = test[n - 1]
        guard last < grokked else {
            return (nil, "the run has not grokked: the test loss ends at \(g(last)) (epoch \(epochs[n - 1])), not below \(g(grokked))")
        }
        guard test[peak] >= grokked else {
            return (nil, "the test loss is below \(g(grokked)) already at its peak (\(g(test[peak]))): there is no late fall to locate")
        }
        let logs = test.map { log10(max($0, 1e-300)) }
        let half = (logs[peak] + logs[n - 1]) / 2
        // The last test loss is below the peak's, so some checkpoint after the peak gets halfway.
        let crossing = ((peak + 1)..<n).first { logs[$0] <= half } ?? (n - 1)
        func slope(_ i: Int) -> Double { (logs[i] - logs[i - 1]) / Double(epochs[i] - epochs[i - 1]) }   // per epoch, segment i−1 → i
        var fallEnd = crossing
        while fallEnd + 1 < n, slope(fallEnd + 1) < 0 { fallEnd += 1 }
        let steepestIndex = ((peak + 1)...fallEnd).min { slope($0) < slope($1) } ?? crossing
        let threshold = slopeFraction * slope(steepestIndex)
        var start = crossing
        while start > peak, slope(start) < threshold { start -= 1 }
        return (start, "log₁₀ test loss falls faster than \(g(-threshold)) per epoch from here (test loss \(g(test[start]))); "
                + "steepest \(g(-slope(steepestIndex))) per epoch at epoch \(epochs[steepestIndex]); halfway (\(g(pow(10, half)))) "
                + "at epoch \(epochs[crossing]); last test loss \(g(last))")
    }

    /// The first checkpoint from `from` on after which every settling curve stays within the tolerance for the window.
    static func settled(epochs: [Int], settling: [(name: String, values: [Double])], from: Int,
                        rules: PhaseRules) -> (index: Int?, measured: String) {
        guard !settling.isEmpty else { return (nil, "no settling curves (Σw², Gini) were measured") }
        let n = epochs.count, window = rules.settleWindow
        // The largest relative move of each curve over the window starting at checkpoint t.
        func moves(_ t: Int) -> [Double]? {
            let inWindow = (t..<n).filter { epochs[$0] <= epochs[t] + window }
            guard epochs[n - 1] >= epochs[t] + window, inWindow.count >= 2 else { return nil }
            return settling.map { curve in
                let base = curve.values[t]
                return inWindow.map { abs(curve.values[$0] - base) / max(abs(base), 1e-12) }.max() ?? 0
            }
        }
        func listed(_ t: Int, _ m: [Double]) -> String {
            zip(settling, m).map { "\($0.name) \(percent($1, digits: 2))" }.joined(separator: ", ")
        }
        var lastMeasured: (Int, [Double])? = nil
        for t in from..<n {
            guard let m = moves(t) else { continue }
            lastMeasured = (t, m)
            if m.allSatisfy({ $0 < rules.settleTolerance }) {
                let changes = settling.map { "\($0.name) \(g($0.values[from])) → \(g($0.values[t]))" }.joined(separator: ", ")
                return (t, "over the next \(window) epochs the curves move at most: \(listed(t, m)); since the onset: \(changes)")
            }
        }
        guard let (t, m) = lastMeasured else {
            let spare = epochs[n - 1] - epochs[from]
            if spare >= window {
                return (nil, "the checkpoints are farther apart than the window of \(window) epochs")
            }
            return (nil, "the run ends \(spare) epochs after the grokking onset, less than one window of \(window) epochs")
        }
        let moving = zip(settling, m).filter { $0.1 >= rules.settleTolerance }.map { "\($0.0.name) \(percent($0.1, digits: 2))" }
        return (nil, "still moving at the end of the run: over the last full window (epochs \(epochs[t])–\(epochs[t] + window)) "
                + moving.joined(separator: ", ") + " (tolerance \(percent(rules.settleTolerance)))")
    }

    static func g(_ x: Double) -> String { String(format: "%.3g", x) }
    static func percent(_ x: Double, digits: Int = 0) -> String {
        let text = String(format: "%.\(digits)f", 100 * x)
        return (digits == 0 && 100 * x != (100 * x).rounded() ? String(format: "%.2g", 100 * x) : text) + "%"
    }
}
