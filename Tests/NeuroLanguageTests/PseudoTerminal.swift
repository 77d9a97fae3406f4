import Foundation
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// The `neuromap` executable the REPL tests drive. The test target cannot
/// depend on an executable target, so it is looked up next to the test
/// bundle in the build directory (`$NEUROMAP_BINARY` overrides).
enum NeuromapBinary {
    /// Looked up (and checked) once per test run.
    static func locate() throws -> URL { try located.get() }

    /// Runs the executable with `arguments` in `directory` (standard input from
    /// `input`, or none); returns its exit status, standard output and standard error.
    static func run(_ arguments: [String], input: String? = nil, in directory: URL,
                    environment: [String: String] = [:]) throws -> (status: Int32, output: String, errors: String) {
        let process = Process()
        process.executableURL = try locate()
        process.arguments = arguments
        process.currentDirectoryURL = directory
        if !environment.isEmpty {
            process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        }
        let stdout = Pipe(), stderr = Pipe(), stdin = Pipe()
        process.standardInput = input == nil ? FileHandle.nullDevice : stdin
        process.standardOutput = stdout
        process.standardError = stderr
        try process.run()
        if let input {
            stdin.fileHandleForWriting.write(Data(input.utf8))
            try stdin.fileHandleForWriting.close()
        }
        // Read both to the end before waiting: a full pipe would block the child.
        let errors = ThreadResult<Data>()
        let group = DispatchGroup()
        group.enter()
        Thread { errors.value = stderr.fileHandleForReading.readDataToEndOfFile(); group.leave() }.start()
        let output = stdout.fileHandleForReading.readDataToEndOfFile()
        group.wait()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: output, as: UTF8.self), String(decoding: errors.value ?? Data(), as: UTF8.self))
    }

    private static let located = Result { try find() }

    private static func find() throws -> URL {
        let environment = ProcessInfo.processInfo.environment
        var directories = [Bundle.main.bundleURL, Bundle.main.bundleURL.deletingLastPathComponent(),
                           URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()]
        for bundle in Bundle.allBundles where bundle.bundlePath.hasSuffix(".xctest") {
            directories.append(bundle.bundleURL.deletingLastPathComponent())
        }
        var candidates = directories.map { $0.appendingPathComponent("neuromap") }
        if let custom = environment["NEUROMAP_BINARY"], !custom.isEmpty {
            candidates.insert(URL(fileURLWithPath: custom), at: 0)
        }
        guard let found = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0.path) }) else {
            throw TerminalError("the neuromap executable is not built: run `swift build` first (looked in "
                                + Set(directories.map(\.path)).sorted().joined(separator: ", ") + ")")
        }
        warnIfStale(found)
        return found
    }

    /// `swift test` compiles the executable's sources but does not link it
    /// again, so a binary older than the sources may run old code: say so.
    private static func warnIfStale(_ binary: URL) {
        let sources = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Sources")
        func modified(_ url: URL) -> Date? { (try? url.resourceValues(forKeys: [.contentModificationDateKey]))?.contentModificationDate }
        guard let built = modified(binary),
              let files = FileManager.default.enumerator(at: sources, includingPropertiesForKeys: [.contentModificationDateKey]),
              let newer = files.compactMap({ $0 as? URL }).first(where: { $0.pathExtension == "swift" && (modified($0) ?? .distantPast) > built })
        else { return }
        FileHandle.standardError.write(Data("note: \(binary.path) is older than \(newer.lastPathComponent); the REPL tests may be running an old build (`swift build` first)\n".utf8))
    }
}

struct TerminalError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// The pseudo-terminal calls of the C library. Swift's Glibc module leaves
/// them out (they need `_XOPEN_SOURCE`), so they are looked up at run time.
struct PseudoTerminalCalls {
    let open: @convention(c) (Int32) -> Int32
    let grant: @convention(c) (Int32) -> Int32
    let unlock: @convention(c) (Int32) -> Int32
    let name: @convention(c) (Int32, UnsafeMutablePointer<CChar>, Int) -> Int32

    /// `POSIX_SPAWN_SETSID` (glibc's value; the macro needs `_GNU_SOURCE`).
    static let spawnSetsid: Int32 = 0x80

    static func load() -> PseudoTerminalCalls? {
        let process = dlopen(nil, RTLD_NOW)
        func symbol<T>(_ name: String, as type: T.Type) -> T? {
            dlsym(process, name).map { unsafeBitCast($0, to: type) }
        }
        guard let open = symbol("posix_openpt", as: (@convention(c) (Int32) -> Int32).self),
              let grant = symbol("grantpt", as: (@convention(c) (Int32) -> Int32).self),
              let unlock = symbol("unlockpt", as: (@convention(c) (Int32) -> Int32).self),
              let name = symbol("ptsname_r", as: (@convention(c) (Int32, UnsafeMutablePointer<CChar>, Int) -> Int32).self)
        else { return nil }
        return PseudoTerminalCalls(open: open, grant: grant, unlock: unlock, name: name)
    }
}

/// A child process on a pseudo-terminal of its own, as a user would run it:
/// it leads a new session with the terminal as its controlling terminal, so
/// Ctrl-C written to the terminal becomes SIGINT. `expect` waits for text.
final class TerminalSession {
    let pid: pid_t
    private let master: Int32
    private var output: [UInt8] = []
    /// How much of `output` earlier `expect`s have matched.
    private var consumed = 0
    private var exitStatus: Int32?

    /// Starts `executable` with `environment` added to a clean, predictable one
    /// (TERM=dumb, no inputrc, 200 columns).
    init(_ executable: URL, arguments: [String] = [], environment extra: [String: String] = [:]) throws {
        guard let pty = PseudoTerminalCalls.load() else { throw TerminalError("this C library has no posix_openpt") }
        master = pty.open(O_RDWR | O_NOCTTY | O_CLOEXEC)
        var name = [CChar](repeating: 0, count: 128)
        guard master >= 0, pty.grant(master) == 0, pty.unlock(master) == 0, pty.name(master, &name, name.count) == 0 else {
            throw TerminalError("cannot open a pseudo-terminal: \(String(cString: strerror(errno)))")
        }
        let slavePath = String(cString: name)
        var size = winsize(ws_row: 50, ws_col: 200, ws_xpixel: 0, ws_ypixel: 0)
        _ = ioctl(master, UInt(TIOCSWINSZ), &size)
        _ = fcntl(master, F_SETFL, fcntl(master, F_GETFL) | O_NONBLOCK)

        var environment = ProcessInfo.processInfo.environment
        for key in ["NEUROMAP_HISTORY", "INPUTRC", "TERM", "COLUMNS", "LINES"] { environment[key] = nil }
        environment["TERM"] = "dumb"
        environment["INPUTRC"] = "/dev/null"
        environment["COLUMNS"] = "200"
        environment["LINES"] = "50"
        environment.merge(extra) { $1 }

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        // Opened after setsid (attributes come first), so the terminal becomes the controlling one.
        posix_spawn_file_actions_addopen(&actions, 0, slavePath, O_RDWR, 0)
        posix_spawn_file_actions_adddup2(&actions, 0, 1)
        posix_spawn_file_actions_adddup2(&actions, 0, 2)
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var defaults = sigset_t()
        sigemptyset(&defaults)
        sigaddset(&defaults, SIGINT)
        var unblocked = sigset_t()
        sigemptyset(&unblocked)
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setsigmask(&attributes, &unblocked)
        posix_spawnattr_setflags(&attributes, Int16(PseudoTerminalCalls.spawnSetsid | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK))

        let argv = ([executable.path] + arguments).map { strdup($0) } + [nil]
        let envp = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { (argv + envp).forEach { free($0) } }
        var child: pid_t = 0
        let spawned = posix_spawn(&child, executable.path, &actions, &attributes, argv, envp)
        guard spawned == 0 else {
            close(master)
            throw TerminalError("cannot start \(executable.path): \(String(cString: strerror(spawned)))")
        }
        pid = child
    }

    deinit {
        if exitStatus == nil {
            kill(pid, SIGKILL)
            var status: Int32 = 0
            waitpid(pid, &status, 0)
        }
        close(master)
    }

    /// Types `text` (use "\r" for Enter, "\t" for Tab, "\u{03}" for Ctrl-C).
    func send(_ text: String) {
        var bytes = Array(text.utf8)
        while !bytes.isEmpty {
            let written = write(master, bytes, bytes.count)
            if written > 0 {
                bytes.removeFirst(written)
            } else if errno != EAGAIN && errno != EINTR {
                return
            } else {
                usleep(1000)
            }
        }
    }

    /// Everything since the last match, with carriage returns dropped.
    var unread: String { TerminalSession.clean(output[consumed...]) }

    /// Everything the child wrote.
    var transcript: String { TerminalSession.clean(output[...]) }

    /// Waits until `text` appears after the last match and consumes through it.
    @discardableResult
    func expect(_ text: String, timeout: TimeInterval = 15, file: StaticString = #filePath, line: UInt = #line) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while true {
            let pending = String(decoding: output[consumed...], as: UTF8.self)
            let plain = pending.replacingOccurrences(of: "\r", with: "")
            if let found = plain.range(of: text) {
                // Map the match back to bytes: count the bytes of the prefix including dropped carriage returns.
                consumed += TerminalSession.byteCount(upToPlainOffset: plain.utf8.distance(from: plain.startIndex, to: found.upperBound), in: pending)
                return true
            }
            if Date() >= deadline || !pump(until: deadline) {
                XCTFail("timed out waiting for \(text.debugDescription); the terminal showed:\n\(unread)", file: file, line: line)
                return false
            }
        }
    }

    /// The exit status once the child ends, or nil (and a failure showing
    /// the terminal) after `timeout`.
    func waitForExit(timeout: TimeInterval = 15, file: StaticString = #filePath, line: UInt = #line) -> Int32? {
        let deadline = Date().addingTimeInterval(timeout)
        while exitStatus == nil && Date() < deadline {
            var status: Int32 = 0
            if waitpid(pid, &status, WNOHANG) == pid {
                exitStatus = status & 0x7f == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
                break
            }
            _ = pump(until: min(deadline, Date().addingTimeInterval(0.05)))
        }
        if exitStatus == nil { XCTFail("still running after \(timeout) s; the terminal showed:\n\(unread)", file: file, line: line) }
        return exitStatus
    }

    /// Reads what the child wrote until something arrives or `deadline`;
    /// false once the terminal is closed and nothing more can come.
    private func pump(until deadline: Date) -> Bool {
        var source = pollfd(fd: master, events: Int16(POLLIN), revents: 0)
        let milliseconds = Int32(max(0, min(deadline.timeIntervalSinceNow, 0.2)) * 1000)
        guard poll(&source, 1, milliseconds) > 0 else { return Date() < deadline }
        var chunk = [UInt8](repeating: 0, count: 4096)
        let count = read(master, &chunk, chunk.count)
        if count > 0 {
            output += chunk[..<count]
            return true
        }
        // EIO: every copy of the terminal's other end is closed (the child exited).
        return count < 0 && (errno == EAGAIN || errno == EINTR)
    }

    private static func clean(_ bytes: ArraySlice<UInt8>) -> String {
        String(decoding: bytes, as: UTF8.self).replacingOccurrences(of: "\r", with: "")
    }

    private static func byteCount(upToPlainOffset offset: Int, in text: String) -> Int {
        var plainBytes = 0
        var bytes = 0
        for byte in text.utf8 {
            if plainBytes == offset { break }
            bytes += 1
            if byte != UInt8(ascii: "\r") { plainBytes += 1 }
        }
        return bytes
    }
}
