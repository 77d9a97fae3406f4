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
/// A new file gets the default permissions (0666 minus the umask); if `path`
/// is a symbolic link, the link itself is replaced.
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

    let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o666)
    guard fd >= 0 else { throw fileSystemError(path, "cannot write", errno) }
    do {
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
public func readFileBytes(_ path: String) throws -> [UInt8] {
    let file = try RegularFile(path: path)
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
