import Glibc

/// A reference-counted, 64-byte aligned block of memory that one or more
/// tensors view. Freed blocks go back to `BufferPool` so that a training loop,
/// which allocates the same sizes every step, stops touching the allocator
/// (and stops page-faulting fresh pages) after its first step.
final class TensorStorage {
    let base: UnsafeMutableRawPointer
    let byteCount: Int

    /// Allocates uninitialised memory.
    init(byteCount: Int) {
        self.byteCount = byteCount
        self.base = BufferPool.shared.take(byteCount: byteCount)
    }

    /// Allocates memory filled with zero bytes.
    convenience init(zeroedByteCount byteCount: Int) {
        self.init(byteCount: byteCount)
        if byteCount > 0 { memset(base, 0, byteCount) }
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

    func take(byteCount: Int) -> UnsafeMutableRawPointer {
        let size = max(byteCount, 1)
        pthread_mutex_lock(&lock)
        if var list = idle[size], let pointer = list.popLast() {
            idle[size] = list
            idleBytes -= size
            pthread_mutex_unlock(&lock)
            return pointer
        }
        pthread_mutex_unlock(&lock)
        return UnsafeMutableRawPointer.allocate(byteCount: size, alignment: 64)
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
        pointer.deallocate()
    }

    /// Returns every idle buffer to the system.
    func drain() {
        pthread_mutex_lock(&lock)
        for (_, list) in idle { for pointer in list { pointer.deallocate() } }
        idle = [:]
        idleBytes = 0
        pthread_mutex_unlock(&lock)
    }
}
