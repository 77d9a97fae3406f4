import Glibc

// Whole-file reads and crash-safe whole-file writes, on plain POSIX calls.
// Every failure becomes an `EngineError` of kind `.file` naming the path.

/// Writes `bytes` to `path` so that readers see either the old file or the
/// complete new one, never a partial write.
///
/// The bytes go to a hidden temporary file in the same directory, which is
/// flushed with `fsync` and then renamed over `path`. On any failure the
/// temporary file is removed and the error names `path` and the system's
/// reason, e.g. `"/no/such/dir/x.bin: cannot write: No such file or directory"`.
/// A new file gets the default permissions (0666 minus the umask); a file
/// written over keeps its permission bits (a private 0600 file stays
/// private). If `path` is a symbolic link, the link itself is replaced. While
/// the temporary file exists its name is in `PendingWrite`, so a handler for
/// SIGTERM can remove it on the way out.
///
/// ```swift
/// try writeAtomically(Array("hello\n".utf8), to: "/tmp/greeting.txt")
/// ```
public func writeAtomically(_ bytes: [UInt8], to path: String) throws {
    let slash = path.lastIndex(of: "/")
    let directory = slash.map { String(path[...$0]) } ?? ""
    let name = slash.map { String(path[path.index(after: $0)...]) } ?? path
    let suffix = String(UInt64.random(in: 0...UInt64.max), radix: 16)
    let temporary = directory + "." + name + ".tmp-" + suffix

    // The bits of the file being replaced, if any (lstat: a link is replaced, not followed).
    var existing = stat()
    let keptMode: mode_t? = lstat(path, &existing) == 0 && existing.st_mode & S_IFMT == S_IFREG ? existing.st_mode & 0o7777 : nil

    let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, keptMode ?? 0o666)
    guard fd >= 0 else { throw fileSystemError(path, "cannot write", errno) }
    PendingWrite.begin(temporary)
    defer { PendingWrite.end() }
    do {
        if let keptMode { guard fchmod(fd, keptMode) == 0 else { throw fileSystemError(path, "cannot write", errno) } }
        try writeAll(fd, bytes, path: path)
        guard fsync(fd) == 0 else { throw fileSystemError(path, "cannot write", errno) }
    } catch {
        close(fd)
        unlink(temporary)
        throw error
    }
    guard close(fd) == 0 else {
        let code = errno
        unlink(temporary)
        throw fileSystemError(path, "cannot write", code)
    }
    guard rename(temporary, path) == 0 else {
        let code = errno
        unlink(temporary)
        throw fileSystemError(path, "cannot write", code)
    }
    // Make the rename itself durable; a failure here loses nothing already written.
    let directoryFD = open(directory.isEmpty ? "." : directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
    if directoryFD >= 0 {
        _ = fsync(directoryFD)
        close(directoryFD)
    }
}

/// Reads the whole regular file at `path`.
///
/// Throws an `EngineError` of kind `.file` naming the path: `"no such file"`,
/// `"permission denied"`, `"is a directory, not a regular file"` (likewise a
/// FIFO, a device or a socket, which have no size and may never end), or
/// `"cannot read: <reason>"`, or a file larger than half of this machine's
/// memory. An empty file gives an empty array.
///
/// ```swift
/// let bytes = try readFileBytes("/tmp/greeting.txt")   // [104, 101, 108, 108, 111, 10]
/// ```
public func readFileBytes(_ path: String, atMost limit: Int? = nil) throws -> [UInt8] {
    let file = try RegularFile(path: path)
    if let limit, file.size > limit {
        throw EngineError.file(path, "is \(formatBytes(Double(file.size))), more than the \(formatBytes(Double(limit))) expected here")
    }
    guard file.size <= SizeLimit.physicalBytes / 2 else {
        throw EngineError.file(path, "is \(formatBytes(Double(file.size))), too large to read whole (more than half of this machine's memory)")
    }
    return try file.bytes(at: 0, count: file.size)
}

/// Writes every byte, retrying short writes and interrupted calls.
private func writeAll(_ fd: Int32, _ bytes: [UInt8], path: String) throws {
    try bytes.withUnsafeBytes { raw in
        guard let base = raw.baseAddress else { return }
        var done = 0
        while done < raw.count {
            let wrote = write(fd, base + done, raw.count - done)
            if wrote < 0 {
                if errno == EINTR { continue }
                throw fileSystemError(path, "cannot write", errno)
            }
            done += wrote
        }
    }
}
/// The temporary file a write has open, kept where a signal handler can reach
/// it without allocating: on SIGTERM the front end calls `removeFromSignalHandler`
/// so no `.NAME.tmp-…` file is left behind.
public enum PendingWrite {
    private static let capacity = Int(PATH_MAX) + 1
    private static let buffer: UnsafeMutablePointer<CChar> = {
        let pointer = UnsafeMutablePointer<CChar>.allocate(capacity: capacity)
        pointer.initialize(repeating: 0, count: capacity)
        return pointer
    }()

    /// Allocates the buffer before any handler may use it.
    public static func prepare() { _ = buffer }

    static func begin(_ path: String) {
        let bytes = Array(path.utf8CString.prefix(capacity - 1))
        buffer[0] = 0                       // empty while the name is being copied
        for (i, byte) in bytes.enumerated().dropFirst() { buffer[i] = byte }
        buffer[bytes.count] = 0
        if let first = bytes.first { buffer[0] = first }
    }

    static func end() { buffer[0] = 0 }

    /// Removes the pending temporary file, if any. Only async-signal-safe calls.
    public static func removeFromSignalHandler() {
        if buffer[0] != 0 { unlink(buffer) }
    }
}
