import Foundation
import Synchronization
import XCTest
@testable import NeuroEngine

/// The engine's worker threads: every part of every loop runs once, on at
/// most one thread per core, before `run` returns — loops back to back,
/// after the workers have gone to sleep, with more parts than cores, with a
/// worker stuck in a part, nested, and from two threads at once.
final class WorkerPoolTests: XCTestCase {
    private let pool = WorkerPool.shared

    /// Runs a loop of `parts` parts and returns how often each part ran and the threads they ran on.
    private func loop(_ parts: Int, work: (Int) -> Void = { _ in }) -> (counts: [Int], threads: [pthread_t?]) {
        var counts = [Int](repeating: 0, count: parts)
        var threads = [pthread_t?](repeating: nil, count: parts)
        counts.withUnsafeMutableBufferPointer { counts in
            threads.withUnsafeMutableBufferPointer { threads in
                pool.run(parts: parts) { part in
                    work(part)
                    counts[part] += 1
                    threads[part] = pthread_self()
                }
            }
        }
        return (counts, threads)
    }

    func testEveryPartRunsOnceOnAtMostOneThreadPerCore() {
        let cores = ProcessInfo.processInfo.activeProcessorCount
        for parts in [0, 1, 2, 3, 2, 5, 9, 2] {
            let (counts, threads) = loop(parts)
            XCTAssertEqual(counts, [Int](repeating: 1, count: parts), "\(parts) parts")
            XCTAssertLessThanOrEqual(Set(threads.map { $0! }).count, min(parts, cores), "\(parts) parts")
        }
    }

    func testLongPartsShareTheCores() throws {
        // Eight parts of 10 ms: the worker, woken at the start, takes some of them.
        let cores = ProcessInfo.processInfo.activeProcessorCount
        guard cores > 1 else { throw XCTSkip("one core: every part runs on the calling thread") }
        let (counts, threads) = loop(8) { _ in usleep(10_000) }
        XCTAssertEqual(counts, [Int](repeating: 1, count: 8))
        XCTAssertGreaterThan(Set(threads.map { $0! }).count, 1)
    }

    func testACallerDoesNotWaitForAStuckWorkerBeforeRunningTheRest() {
        // A part on a worker stays until the caller has run every other part;
        // if parts belonged to threads, the caller would wait for the worker's
        // share and the stuck part would give up after two seconds.
        let caller = pthread_self()
        let finished = Atomic<Int>(0)
        var gaveUp = false
        for parts in [2, 3, 6] {
            finished.store(0, ordering: .relaxed)
            _ = loop(parts) { _ in
                if pthread_equal(pthread_self(), caller) == 0 {
                    let deadline = Date().addingTimeInterval(2)
                    while finished.load(ordering: .acquiring) < parts - 1 && Date() < deadline { usleep(100) }
                    if finished.load(ordering: .acquiring) < parts - 1 { gaveUp = true }
                } else {
                    finished.add(1, ordering: .releasing)
                }
            }
        }
        XCTAssertFalse(gaveUp)
    }

    func testManyLoopsBackToBackAndAfterTheWorkersSlept() {
        // Thousands of short loops (the workers still watching), some after a
        // pause longer than the watch (the workers asleep and woken).
        for round in 0..<3_000 {
            if round % 500 == 0 { usleep(UInt32(WorkerPool.spinSeconds * 5e6)) }
            let parts = 2 + round % 3
            XCTAssertEqual(loop(parts).counts, [Int](repeating: 1, count: parts), "round \(round)")
        }
    }

    func testRunReturnsOnlyWhenEveryPartIsDone() {
        // The worker's part is slow; what it writes is there when run returns.
        var written = [Int](repeating: 0, count: 2)
        written.withUnsafeMutableBufferPointer { written in
            pool.run(parts: 2) { part in
                if part == 1 { usleep(20_000) }
                written[part] = part + 10
            }
        }
        XCTAssertEqual(written, [10, 11])
    }

    func testALoopInsideAPartRunsOnThatPartsThread() {
        var inner = [[Int]](repeating: [], count: 2)
        var innerOnOwnThread = [Bool](repeating: false, count: 2)
        inner.withUnsafeMutableBufferPointer { inner in
            innerOnOwnThread.withUnsafeMutableBufferPointer { own in
                pool.run(parts: 2) { part in
                    let (counts, threads) = loop(3)
                    inner[part] = counts
                    own[part] = threads.allSatisfy { pthread_equal($0!, pthread_self()) != 0 }
                }
            }
        }
        XCTAssertEqual(inner, [[1, 1, 1], [1, 1, 1]])
        XCTAssertEqual(innerOnOwnThread, [true, true])
    }

    func testLoopsFromTwoThreadsAtOnce() {
        let rounds = 500
        var failures = [Int](repeating: 0, count: 2)
        failures.withUnsafeMutableBufferPointer { failures in
            DispatchQueue.concurrentPerform(iterations: 2) { caller in
                for round in 0..<rounds where loop(2 + (round + caller) % 3).counts.contains(where: { $0 != 1 }) {
                    failures[caller] += 1
                }
            }
        }
        XCTAssertEqual(failures, [0, 0])
    }
}
