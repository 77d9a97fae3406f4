import Foundation
import Synchronization

/// The engine's own threads for its parallel loops and split matrix
/// products. A loop of a forward pass is short — at batch 1 a MiniLM layer
/// runs eight of them in about 3 ms — and waking a sleeping thread costs tens
/// of microseconds on a virtual machine, as much as a loop's half of the
/// work. So a worker, having finished its part, watches for the next loop
/// for a short while (`spinSeconds`) before it sleeps, and consecutive loops
/// reach it at the cost of a memory load.
///
/// One loop runs at a time, on the calling thread and up to one worker per
/// further core: with P of them, the caller runs parts 0, P, 2P, …, worker i
/// parts i, i + P, …, and the caller returns when every part is done. A loop
/// started while another runs (from inside a part, or from a second thread)
/// runs its parts one after the other on its calling thread; the results are
/// the same, since every part writes only what it owns.
final class WorkerPool: @unchecked Sendable {
    static let shared = WorkerPool()

    /// How long an idle worker watches for the next loop before it sleeps.
    static let spinSeconds = 0.000_2

    /// Whether a loop is running; taken by compare-and-exchange.
    private let busy = Atomic<Bool>(false)
    /// The current loop in one word, so that a worker reads it in one load:
    /// a count of loops so far (from bit 32), the threads taking part (bits
    /// 16–31) and the number of parts (bits 0–15). A worker runs its parts
    /// when the count changes and it takes part.
    private let loop = Atomic<Int>(0)
    /// Workers taking part in the current loop that have not finished.
    private let remaining = Atomic<Int>(0)
    /// Workers asleep on `wake`, or about to be.
    private let sleepers = Atomic<Int>(0)
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private let wake = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)

    /// The current loop's body: written by the caller before `loop` changes,
    /// read by the workers with a part in it, which the caller waits for.
    nonisolated(unsafe) private var body: ((Int) -> Void)?
    /// Workers started so far (only the thread holding `busy` starts more),
    /// and at most how many: one per core besides the caller's.
    nonisolated(unsafe) private var workers = 0
    private let maximumWorkers = Swift.max(0, ProcessInfo.processInfo.activeProcessorCount - 1)

    private init() {
        pthread_mutex_init(mutex, nil)
        pthread_cond_init(wake, nil)
    }

    /// Runs `body(0)`, …, `body(parts − 1)`, on up to `parts` threads, and
    /// returns when all have returned. `body` must write only what its part
    /// owns.
    func run(parts: Int, _ body: (Int) -> Void) {
        let threads = Swift.min(parts, maximumWorkers + 1)
        guard threads > 1, parts < 1 << 16,
              busy.compareExchange(expected: false, desired: true, ordering: .acquiring).exchanged else {
            for part in 0..<Swift.max(parts, 0) { body(part) }
            return
        }
        defer { busy.store(false, ordering: .releasing) }
        while workers < threads - 1 { startWorker(index: workers) }
        withoutActuallyEscaping(body) { body in
            self.body = body
            remaining.store(threads - 1, ordering: .relaxed)
            let count = loop.load(ordering: .relaxed) >> 32
            loop.store((count &+ 1) << 32 | threads << 16 | parts, ordering: .sequentiallyConsistent)
            if sleepers.load(ordering: .sequentiallyConsistent) > 0 {
                pthread_mutex_lock(mutex)
                pthread_cond_broadcast(wake)
                pthread_mutex_unlock(mutex)
            }
            for part in stride(from: 0, to: parts, by: threads) { body(part) }
            var polls = 0
            while remaining.load(ordering: .acquiring) > 0 {
                polls += 1
                if polls & 1023 == 0 { sched_yield() }
            }
            self.body = nil
        }
    }

    private func startWorker(index: Int) {
        let seen = loop.load(ordering: .relaxed)
        let thread = Thread { [self] in work(index: index + 1, seen: seen) }
        thread.name = "neuromap-worker-\(index + 1)"
        thread.start()
        workers += 1
    }

    /// A worker's life: wait for each loop and, when it takes part, run its
    /// parts and report them done.
    private func work(index: Int, seen start: Int) {
        var seen = start
        while true {
            seen = waitForLoop(after: seen)
            let threads = (seen >> 16) & 0xFFFF, parts = seen & 0xFFFF
            guard index < threads else { continue }
            runParts(stride(from: index, to: parts, by: threads))
            remaining.subtract(1, ordering: .releasing)
        }
    }

    /// Calls the body in a function of its own, so that the worker's
    /// reference to it has ended before the worker reports its parts done
    /// (the caller checks, on leaving `withoutActuallyEscaping`, that no
    /// reference remains).
    @inline(never)
    private func runParts(_ parts: StrideTo<Int>) {
        guard let body else { return }
        for part in parts { body(part) }
    }

    /// Watches `loop` for `spinSeconds`, then sleeps until it changes from `seen`.
    private func waitForLoop(after seen: Int) -> Int {
        let deadline = monotonicNow() + WorkerPool.spinSeconds
        var polls = 0
        while true {
            let now = loop.load(ordering: .acquiring)
            if now != seen { return now }
            polls += 1
            if polls & 255 == 0 && monotonicNow() > deadline { break }
        }
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        sleepers.add(1, ordering: .sequentiallyConsistent)
        defer { sleepers.subtract(1, ordering: .relaxed) }
        while true {
            // Sequentially consistent with the caller's store to `loop` and
            // load of `sleepers`: either this load sees the new loop or the
            // caller sees this sleeper and wakes it.
            let now = loop.load(ordering: .sequentiallyConsistent)
            if now != seen { return now }
            pthread_cond_wait(wake, mutex)
        }
    }

    private func monotonicNow() -> Double {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return Double(time.tv_sec) + Double(time.tv_nsec) * 1e-9
    }
}
