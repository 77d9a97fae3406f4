import Glibc

/// A reference-counted, 64-byte aligned block of memory that one or more
/// tensors view. Freed blocks go back to `BufferPool` so that a training loop,
/// which allocates the same sizes every step, stops touching the allocator
/// (and stops page-faulting fresh pages) after its first step.
final class TensorStorage {
    let base: UnsafeMutableRawPointer
    let byteCount: Int

    /// Allocates uninitialised memory, or returns nil when the system refuses
    /// (under `ulimit -v`, or a request past what overcommit allows), so the
    /// caller can report an error instead of the process aborting.
    init?(allocating byteCount: Int) {
        guard let base = BufferPool.shared.take(byteCount: byteCount) else { return nil }
        self.byteCount = byteCount
        self.base = base
    }

    /// Allocates uninitialised memory for a copy of an existing tensor (whose
    /// size has been checked). A copy cannot report an error, so when the
    /// system has no memory it retries through Swift's allocator, which aborts
    /// if there is still none (Swift's allocator uses posix_memalign for this
    /// alignment on Linux, so `free` in the pool matches it).
    init(byteCount: Int) {
        self.byteCount = byteCount
        self.base = BufferPool.shared.take(byteCount: byteCount)
            ?? UnsafeMutableRawPointer.allocate(byteCount: max(byteCount, 1), alignment: 64)
    }

    deinit {
        BufferPool.shared.give(base, byteCount: byteCount)
    }
}

/// Keeps freed buffers by exact size for reuse. Bounded, so a session that
/// frees many differently-sized tensors does not hold on to them forever.
final class BufferPool: @unchecked Sendable {
    static let shared = BufferPool()

    /// At most this many bytes are kept idle in the pool.
    var capacity = 2 << 30
    private var idle: [Int: [UnsafeMutableRawPointer]] = [:]
    private var idleBytes = 0
    private var lock = pthread_mutex_t()

    private init() {
        pthread_mutex_init(&lock, nil)
    }

    /// A 64-byte aligned buffer of at least one byte, reused when one of that
    /// size is idle; nil when the system has no memory for it.
    func take(byteCount: Int) -> UnsafeMutableRawPointer? {
        let size = max(byteCount, 1)
        pthread_mutex_lock(&lock)
        if var list = idle[size], let pointer = list.popLast() {
            idle[size] = list
            idleBytes -= size
            pthread_mutex_unlock(&lock)
            return pointer
        }
        pthread_mutex_unlock(&lock)
        var pointer: UnsafeMutableRawPointer? = nil
        guard posix_memalign(&pointer, 64, size) == 0 else { return nil }
        return pointer
    }

    func give(_ pointer: UnsafeMutableRawPointer, byteCount: Int) {
        let size = max(byteCount, 1)
        pthread_mutex_lock(&lock)
        // Tiny buffers are cheap to allocate; keep the pool for the big ones.
        if size >= 4096 && idleBytes + size <= capacity {
            idle[size, default: []].append(pointer)
            idleBytes += size
            pthread_mutex_unlock(&lock)
            return
        }
        pthread_mutex_unlock(&lock)
        free(pointer)
    }

    /// Returns every idle buffer to the system.
    func drain() {
        pthread_mutex_lock(&lock)
        for (_, list) in idle { for pointer in list { free(pointer) } }
        idle = [:]
        idleBytes = 0
        pthread_mutex_unlock(&lock)
    }
}
