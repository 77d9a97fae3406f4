/// Splits large elementwise and row-wise loops across the threads the engine
/// may use (`BLASThreads.current`, which matrix products use too), so a
/// trainer that gives each of its two threads one engine thread keeps these
/// loops on one core each. The chunks run on the calling thread and the
/// engine's workers (`WorkerPool`). Every chunk writes its own part of the
/// output and reduces nothing across chunks, so the results are the same
/// bits whatever the number of threads.
enum Parallel {
    /// Below this many elements of work a loop runs on the calling thread:
    /// waking a second thread costs about as much as this much work.
    static let minimumWork = 1 << 16

    /// Calls `body` on disjoint ranges covering `0..<count`, in parallel
    /// when `count · workPerItem` is large enough. `body` must touch only
    /// the items of its range.
    @inline(__always)
    static func forRanges(_ count: Int, workPerItem: Int = 1, _ body: (Range<Int>) -> Void) {
        let threads = Swift.min(BLASThreads.current, 8)
        guard threads > 1, count >= 2, count &* Swift.max(workPerItem, 1) >= minimumWork else {
            body(0..<count)
            return
        }
        let chunks = Swift.min(threads, count)
        let size = (count + chunks - 1) / chunks
        WorkerPool.shared.run(parts: chunks) { chunk in
            let start = chunk * size
            let end = Swift.min(start + size, count)
            if start < end { body(start..<end) }
        }
    }
}
