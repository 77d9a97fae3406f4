import Foundation
import NeuroEngine
import NeuroLanguage
import NeuroModels

/// Where progress lines go: a terminal (`ProgressDisplay.standardError()`)
/// or nowhere (`.silent`, the default: scripts piped to files, tests, CI).
/// The front end chooses; the built-ins only report.
public struct ProgressDisplay {
    /// Draws `line` in place of the line drawn before.
    public var show: (String) -> Void
    /// Ends the line drawn: leaves it on screen (`keep`, as training's last
    /// line) or erases it, so that what prints next starts on a clean line.
    public var end: (_ keep: Bool) -> Void

    public init(show: @escaping (String) -> Void, end: @escaping (_ keep: Bool) -> Void) {
        self.show = show
        self.end = end
    }

    /// Shows nothing.
    public static var silent: ProgressDisplay { ProgressDisplay(show: { _ in }, end: { _ in }) }

    /// A line redrawn in place on standard error, or nil when standard
    /// error is not a terminal. Standard output is never touched, so a
    /// result piped to a file holds no progress text. The line is redrawn
    /// with a carriage return and blanked with spaces (no escape codes), so
    /// any terminal shows it, `TERM=dumb` included.
    public static func standardError() -> ProgressDisplay? {
        guard isatty(STDERR_FILENO) != 0 else { return nil }
        var shown = 0       // characters on the line now
        func write(_ text: String) { FileHandle.standardError.write(Data(text.utf8)) }
        return ProgressDisplay(show: { text in
            // Cut to the terminal's width: a line that wraps cannot be redrawn in place.
            let line = String(text.prefix(max(20, terminalColumns() - 1)))
            write("\r" + line + String(repeating: " ", count: max(0, shown - line.count)))
            shown = line.count
        }, end: { keep in
            guard shown > 0 else { return }
            write(keep ? "\n" : "\r" + String(repeating: " ", count: shown) + "\r")
            shown = 0
        })
    }
}

/// Columns of the terminal on standard error (80 when it does not say).
func terminalColumns() -> Int {
    var size = winsize()
    guard ioctl(STDERR_FILENO, UInt(TIOCGWINSZ), &size) == 0, size.ws_col > 0 else { return 80 }
    return Int(size.ws_col)
}

/// The text of a progress line: what runs, how far, and the time left.
///
/// ```swift
/// ProgressLine.text("sweep mlp_post 0 by pos × neuron", done: 1024, total: 2048, elapsed: 10)
/// // "  sweep mlp_post 0 by pos × neuron  1024/2048 ━━━━━━━━━━╸─────────  50%  ETA 10s"
/// ```
public enum ProgressLine {
    /// Steps done before the time left is estimated: the first steps often
    /// include one-off work (baselines, caches) and would mislead.
    public static let stepsBeforeEstimate = 3
    /// Longer descriptions are cut, so the line fits a terminal and `\r` can redraw it.
    public static let maxWhat = 48

    /// `  what  done/total bar  pct%  ETA t`, the `ETA` once
    /// `stepsBeforeEstimate` steps are done (and not after the last), and
    /// `detail` (a loss) after it. `elapsed` is the time since `doneBefore`
    /// steps were done (0: since the start). Any numbers draw: a total of 0,
    /// a `done` past the total, a negative or endless time.
    public static func text(_ what: String, done: Int, total: Int, elapsed: Double, since doneBefore: Int = 0,
                            detail: String? = nil) -> String {
        let name = what.count > maxWhat ? String(what.prefix(maxWhat - 1)) + "…" : what
        let fraction = total > 0 ? Double(done) / Double(total) : 0
        var line = "  \(name)  \(done)/\(total) \(bar(fraction))  \(Int((min(max(fraction, 0), 1) * 100).rounded(.down)))%"
        if let remaining = secondsLeft(done: done, total: total, elapsed: elapsed, since: doneBefore) {
            line += "  ETA \(duration(remaining))"
        }
        if let detail { line += "  \(detail)" }
        return line
    }

    /// The time left at the pace of the steps from `doneBefore` to `done`,
    /// taken in `elapsed` seconds: elapsed / (done − doneBefore) × (total − done);
    /// nil before `stepsBeforeEstimate` such steps, or once done.
    public static func secondsLeft(done: Int, total: Int, elapsed: Double, since doneBefore: Int = 0) -> Double? {
        guard done - doneBefore >= stepsBeforeEstimate, done < total, elapsed.isFinite, elapsed >= 0 else { return nil }
        return elapsed / Double(done - doneBefore) * Double(total - done)
    }

    /// A bar 20 characters wide, `done` (0…1) of it full: `━━━━━━━━━╸──────────`.
    public static func bar(_ done: Double) -> String {
        let width = 20
        // Clamped: the bar must draw whatever the numbers (a negative count would trap).
        let full = done.isFinite ? Int(Swift.min(Swift.max(done, 0), 1) * Double(width)) : 0
        return String(repeating: "━", count: full) + (full < width ? "╸" + String(repeating: "─", count: width - full - 1) : "")
    }

    /// `12s`, `2m05s`; `days` past a week, `?` for what is not a time.
    public static func duration(_ seconds: Double) -> String {
        // Int(seconds) traps on NaN and past Int's range; a week is already "long".
        guard seconds.isFinite, seconds >= 0 else { return "?" }
        guard seconds < 7 * 24 * 3600 else { return "days" }
        return seconds < 90 ? String(format: "%.0fs", seconds) : String(format: "%dm%02ds", Int(seconds) / 60, Int(seconds) % 60)
    }
}

/// One long computation's progress line: checks for Ctrl-C at every step,
/// redraws at most `redrawInterval` apart, draws nothing for work that ends
/// within `quietStart`, and ends the line when told (`finish`). The time
/// left is estimated from the pace of the last `paceWindow` seconds, so
/// steps that cost nothing (a sweep's cells that cannot change the output)
/// or a slow first step do not mislead it for long.
///
/// ```swift
/// let reporter = session.reporter("sweep z by layer × pos × head")
/// defer { reporter.finish() }
/// let grid = try engine.sweep(specs, progress: reporter.callback)
/// ```
public final class ProgressReporter {
    /// What runs, as the line names it.
    public let what: String
    /// At most this often (seconds) the line is redrawn: a few times a second.
    public static let redrawInterval = 0.2
    /// Nothing is drawn before this many seconds (unless forced): short work stays quiet.
    public static let quietStart = 0.5
    /// The time left follows the pace of about this many seconds before.
    public static let paceWindow = 10.0

    private let display: ProgressDisplay
    private let clock: () -> Double
    private let started: Double
    private var lastDrawn: Double?
    /// (time, done) when lines were drawn within the pace window, oldest first.
    private var paces: [(time: Double, done: Int)] = []

    /// `clock` gives seconds (monotonic); tests give their own.
    public init(_ what: String, display: ProgressDisplay, clock: @escaping () -> Double = monotonicSeconds) {
        self.what = what
        self.display = display
        self.clock = clock
        self.started = clock()
    }

    /// Seconds since the reporter was made.
    public var elapsed: Double { clock() - started }

    /// The callback an analysis takes (`StepProgress`): `step(done, of: total)`.
    public var callback: StepProgress { { [self] done, total in try step(done, of: total) } }

    /// `done` of `total` steps are finished: throws `interrupted` after
    /// Ctrl-C, otherwise redraws the line when it is time.
    public func step(_ done: Int, of total: Int, detail: String? = nil) throws {
        try ProgressReporter.checkInterruption()
        show(done, of: total, detail: detail)
    }

    /// Redraws the line for `done` of `total` when it is time, without
    /// checking for Ctrl-C (for a training loop, which stops by its own `shouldStop`).
    public func show(_ done: Int, of total: Int, detail: @autoclosure () -> String? = nil) {
        draw { elapsed in
            let now = started + elapsed
            // The pace since the oldest draw within the window (since the start while the window covers it).
            paces.removeAll { $0.done > done }                     // a count that went back (a new stage)
            while paces.count > 1, now - paces[1].time >= ProgressReporter.paceWindow { paces.removeFirst() }
            var since: (time: Double, done: Int) = paces.first.flatMap { now - $0.time >= ProgressReporter.paceWindow ? $0 : nil } ?? (started, 0)
            // Slow steps, too few in the window: the pace since the start.
            if done - since.done < ProgressLine.stepsBeforeEstimate { since = (started, 0) }
            paces.append((now, done))
            return ProgressLine.text(what, done: done, total: total, elapsed: now - since.time, since: since.done, detail: detail())
        }
    }

    /// Draws `text(elapsed)` when it is time: not before `quietStart`, not
    /// within `redrawInterval` of the last draw; `force` draws regardless
    /// (the last line of a run that keeps it). `text` is not called otherwise.
    public func draw(force: Bool = false, _ text: (_ elapsed: Double) -> String) {
        let now = clock()
        if !force {
            guard now - started >= ProgressReporter.quietStart else { return }
            if let lastDrawn, now - lastDrawn < ProgressReporter.redrawInterval { return }
        }
        lastDrawn = now
        display.show(text(now - started))
    }

    /// Whether a line was drawn and not yet ended.
    public var isShowing: Bool { lastDrawn != nil }

    /// Ends the line (erased unless `keep`); nothing when none was drawn.
    /// Safe to call more than once.
    public func finish(keep: Bool = false) {
        guard lastDrawn != nil else { return }
        lastDrawn = nil
        display.end(keep)
    }

    /// Throws `interrupted` when Ctrl-C was pressed: the computation stops
    /// and returns nothing, and the interpreter reports `interrupted`.
    public static func checkInterruption() throws {
        if Interruption.requested { throw EngineError(.interrupted, "interrupted") }
    }
}

extension Session {
    /// A progress line for `what` on this session's display.
    public func reporter(_ what: String) -> ProgressReporter {
        ProgressReporter(what, display: progressDisplay, clock: progressClock)
    }
}
