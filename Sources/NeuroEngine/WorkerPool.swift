import Foundation
import Synchronization

/// The engine's own threads for its parallel loops and split matrix
/// products. A loop of a forward pass is short — at batch 1 a MiniLM layer
/// runs eight of them in about 3 ms — and waking a sleeping thread costs tens
/// of microseconds on a virtual machine, as much as a loop's half of the
/// work. So a worker, having finished, watches for the next loop for a short
/// while (`spinSeconds`, yielding its core now and then to any other thread
/// that wants it) before it sleeps, and consecutive loops reach it at the
/// cost of a memory load.
///
/// One loop runs at a time, on the calling thread and up to one worker per
/// further core. Each takes the loop's next part not yet taken until none is
/// left, so when a worker is slow to start (asleep, or its core busy with
/// another program) the caller runs its parts too, and the caller returns
/// when every part is done. A loop started while another runs (from inside a
/// part, or from a second thread) runs its parts one after the other on its
/// calling thread. Which thread runs a part never changes the results:
/// every part writes only what it owns.
final class WorkerPool: @unchecked Sendable {
    static let shared = WorkerPool()

    /// How long an idle worker watches for the next loop before it sleeps.
    static let spinSeconds = 0.000_2

    /// Whether a loop is running; taken by compare-and-exchange.
    private let busy = Atomic<Bool>(false)
    /// The current loop in one word, so that a worker reads it in one load:
    /// a count of loops so far (from bit 16) and the number of parts (bits
    /// 0–15). Workers look for parts when the count changes.
    private let loop = Atomic<Int>(0)
    /// The current loop's count (from bit 16) and its next part not yet
    /// taken (bits 0–15). A part is taken by compare-and-exchange, which
    /// fails for a thread that holds an earlier loop's count.
    private let next = Atomic<Int>(0)
    /// Parts of the current loop the workers have finished (the caller counts its own).
    private let done = Atomic<Int>(0)
    /// Workers asleep on `wake`, or about to be.
    private let sleepers = Atomic<Int>(0)
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private let wake = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)

    /// The current loop's body: written by the caller before `loop` changes,
    /// read by a worker after it has taken a part, which the caller waits for.
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
        let helpers = Swift.min(parts - 1, maximumWorkers)
        guard helpers > 0, parts < 1 << 16,
              busy.compareExchange(expected: false, desired: true, ordering: .acquiring).exchanged else {
            for part in 0..<Swift.max(parts, 0) { body(part) }
            return
        }
        defer { busy.store(false, ordering: .releasing) }
        while workers < helpers { startWorker(index: workers + 1) }
        withoutActuallyEscaping(body) { body in
            self.body = body
            done.store(0, ordering: .relaxed)
            let count = (loop.load(ordering: .relaxed) >> 16) &+ 1
            next.store(count << 16, ordering: .relaxed)
            loop.store(count << 16 | parts, ordering: .sequentiallyConsistent)
            if sleepers.load(ordering: .sequentiallyConsistent) > 0 {
                pthread_mutex_lock(mutex)
                pthread_cond_broadcast(wake)
                pthread_mutex_unlock(mutex)
            }
            var finished = 0
            while let part = take(count: count, parts: parts) {
                body(part)
                finished += 1
            }
            // Parts a worker took may still be running.
            var polls = 0
            while done.load(ordering: .acquiring) + finished < parts {
                polls += 1
                if polls & 255 == 0 { sched_yield() }
            }
            self.body = nil
        }
    }

    /// The next part of loop `count` not yet taken, now taken; nil when none
    /// is left or that loop is over.
    @inline(__always)
    private func take(count: Int, parts: Int) -> Int? {
        var word = next.load(ordering: .relaxed)
        while word >> 16 == count && word & 0xFFFF < parts {
            let (taken, current) = next.compareExchange(expected: word, desired: word + 1, ordering: .acquiring)
            if taken { return word & 0xFFFF }
            word = current
        }
        return nil
    }

    private func startWorker(index: Int) {
        let seen = loop.load(ordering: .relaxed)
        let thread = Thread { [self] in work(seen: seen) }
        thread.name = "neuromap-worker-\(index)"
        thread.start()
        workers += 1
    }

    /// A worker's life: wait for each loop, run the parts it takes, report each done.
    private func work(seen start: Int) {
        var seen = start
        while true {
            seen = waitForLoop(after: seen)
            while let part = take(count: seen >> 16, parts: seen & 0xFFFF) {
                runPart(part)
                done.add(1, ordering: .releasing)
            }
        }
    }

    /// Calls the body in a function of its own, so that the worker's
    /// reference to it has ended before the worker reports the part done
    /// (the caller checks, on leaving `withoutActuallyEscaping`, that no
    /// reference remains).
    @inline(never)
    private func runPart(_ part: Int) {
        body?(part)
    }

    /// Watches `loop` for `spinSeconds`, then sleeps until it changes from `seen`.
    private func waitForLoop(after seen: Int) -> Int {
        let deadline = monotonicNow() + WorkerPool.spinSeconds
        var polls = 0
        while true {
            let now = loop.load(ordering: .acquiring)
            if now != seen { return now }
            polls += 1
            if polls & 255 == 0 {
                if monotonicNow() > deadline { break }
                sched_yield()
            }
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
