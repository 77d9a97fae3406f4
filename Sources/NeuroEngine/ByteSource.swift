import Glibc

// Where the file readers (SafeTensors, NPY) take their bytes from: a regular
// file read by offset, or bytes already in memory. Reading by offset lets a
// reader look at the header first, check every declared size against the
// real size, and then read only the ranges it needs, so a 100 GB sparse file
// or a lying header costs nothing.

/// Bytes a reader can take ranges of.
protocol ByteSource {
    /// Total length in bytes.
    var size: Int { get }
    /// Names the source in errors (the path, or the caller's label).
    var label: String { get }
    /// Copies `count` bytes at `offset` into `destination`. Callers check
    /// the range against `size` first; a read that still comes up short
    /// (a file cut while it was read) throws.
    func read(at offset: Int, count: Int, into destination: UnsafeMutableRawPointer) throws
}

extension ByteSource {
    /// `count` bytes at `offset` (callers check the range against `size`).
    func bytes(at offset: Int, count: Int) throws -> [UInt8] {
        var out = [UInt8](repeating: 0, count: count)
        try out.withUnsafeMutableBytes { raw in
            guard let base = raw.baseAddress else { return }
            try read(at: offset, count: count, into: base)
        }
        return out
    }
}

/// Bytes already in memory (`SafeTensors.decode`, `NPY.decode`).
struct MemoryBytes: ByteSource {
    let contents: [UInt8]
    let label: String

    var size: Int { contents.count }

    func read(at offset: Int, count: Int, into destination: UnsafeMutableRawPointer) throws {
        guard offset >= 0, count >= 0, offset <= contents.count - count else {
            throw EngineError.file(label, "needs bytes \(offset)..<\(offset + count) but has \(contents.count)")
        }
        contents.withUnsafeBytes { raw in
            if let base = raw.baseAddress, count > 0 { destination.copyMemory(from: base + offset, byteCount: count) }
        }
    }
}

/// An open regular file, read with `pread`. Anything else (a directory, a
/// FIFO, a device such as /dev/zero, a socket) is refused when opened, since
/// such a file has no size to check a header against, and reading it can
/// block forever or never end.
final class RegularFile: ByteSource {
    let label: String
    let size: Int
    private let descriptor: Int32

    /// Opens `path` for reading, refusing what is not a regular file with an
    /// error that says what it is: `"/tmp/f: is a FIFO, not a regular file"`.
    init(path: String) throws {
        // O_NONBLOCK so that opening a FIFO with no writer returns at once
        // (it would block here otherwise); it changes nothing for regular files.
        let fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)
        guard fd >= 0 else { throw fileSystemError(path, "cannot read", errno) }
        var info = stat()
        guard fstat(fd, &info) == 0 else {
            let code = errno
            close(fd)
            throw fileSystemError(path, "cannot read", code)
        }
        let kind: String?
        switch info.st_mode & S_IFMT {
        case S_IFREG: kind = nil
        case S_IFDIR: kind = "a directory"
        case S_IFIFO: kind = "a FIFO"
        case S_IFCHR, S_IFBLK: kind = "a device"
        case S_IFSOCK: kind = "a socket"
        default: kind = "not a regular file"
        }
        if let kind {
            close(fd)
            throw EngineError.file(path, kind.hasPrefix("not") ? kind : "is \(kind), not a regular file")
        }
        self.descriptor = fd
        self.label = path
        self.size = Int(info.st_size)
    }

    deinit {
        close(descriptor)
    }

    func read(at offset: Int, count: Int, into destination: UnsafeMutableRawPointer) throws {
        var done = 0
        while done < count {
            let got = pread(descriptor, destination + done, count - done, off_t(offset + done))
            if got < 0 {
                if errno == EINTR || errno == EAGAIN { continue }
                throw fileSystemError(label, "cannot read", errno)
            }
            guard got > 0 else {
                throw EngineError.file(label, "ended at byte \(offset + done) while reading bytes \(offset)..<\(offset + count); was it changed while being read?")
            }
            done += got
        }
    }
}

/// A `.file` error for a failed system call. The commonest reasons on reads
/// get short wording of their own; everything else is `action: strerror`.
func fileSystemError(_ path: String, _ action: String, _ code: Int32) -> EngineError {
    if action == "cannot read" {
        switch code {
        case ENOENT: return EngineError.file(path, "no such file")
        case EACCES: return EngineError.file(path, "permission denied")
        case EISDIR: return EngineError.file(path, "is a directory")
        default: break
        }
    }
    return EngineError.file(path, "\(action): \(String(cString: strerror(code)))")
}
