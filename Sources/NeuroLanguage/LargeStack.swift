import Foundation

/// Runs `body` on a thread with a large stack and waits for it. Scripts run
/// this way, so deep but bounded recursion in a script (or a deep parse tree)
/// cannot overflow the main thread's 8 MB stack.
///
/// ```swift
/// let value = try onLargeStack { try interpreter.run(program) }
/// ```
public func onLargeStack<T>(bytes: Int = 512 << 20, _ body: @escaping () throws -> T) throws -> T {
    let slot = ResultSlot<T>()
    let done = DispatchSemaphore(value: 0)
    let thread = Thread {
        slot.result = Result { try body() }
        done.signal()
    }
    thread.stackSize = bytes
    thread.start()
    done.wait()
    guard let result = slot.result else { throw RuntimeError("the work on the large stack ended without a result") }
    return try result.get()
}

/// Where the large-stack thread leaves its result; read only after the semaphore.
private final class ResultSlot<T>: @unchecked Sendable {
    var result: Result<T, Error>?
}
