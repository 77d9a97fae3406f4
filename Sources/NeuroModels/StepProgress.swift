/// Told after each step of a long computation (a patching sweep's cell, a
/// checkpoint measured, an edge tested): `done` of `total` steps are
/// finished. It may throw to stop the computation there (the workbench
/// throws `EngineError(.interrupted, …)` after Ctrl-C); the computation
/// then returns nothing, so no partial result is left behind.
///
/// Analyses take it as an optional parameter and know nothing of how it is
/// shown: the workbench binds it to a progress line on the terminal.
///
/// ```swift
/// var seen: [Int] = []
/// let grid = try patching.sweep([.residPre]) { done, total in seen.append(done) }
/// ```
public typealias StepProgress = (_ done: Int, _ total: Int) throws -> Void
