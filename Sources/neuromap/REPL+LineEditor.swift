import CReadline
import Foundation
import NeuroLanguage

/// What reading one line gave.
enum InputEvent: Equatable {
    case line(String)
    /// Ctrl-C at the prompt: the line was dropped.
    case interrupted
    /// Ctrl-D on an empty line, or the end of piped input.
    case end
}

/// Where the REPL's lines come from: the terminal through readline, or a pipe.
protocol LineSource: AnyObject {
    /// The next line, without its newline; `prompt` is shown first when there is a terminal.
    func read(prompt: String) -> InputEvent
    /// Keeps an entered line in the history, if there is one.
    func remember(_ line: String)
    /// Runs a command; what is typed meanwhile (lines, Ctrl-D) is kept for the next `read`.
    func whileBusy(_ body: () -> Int32) -> Int32
    /// Saves what must outlive the session.
    func close()
}

/// Piped input: plain lines, no prompt, no history.
final class PlainLines: LineSource {
    func read(prompt: String) -> InputEvent {
        Swift.readLine(strippingNewline: true).map(InputEvent.line) ?? .end
    }

    func remember(_ line: String) {}
    func whileBusy(_ body: () -> Int32) -> Int32 { body() }
    func close() {}
}

/// The terminal, through GNU readline's callback interface: this loop, not
/// readline, waits for input, so Ctrl-C can be noticed (through
/// `PromptSignals`' pipe) and handled outside the signal handler. Emacs keys,
/// Ctrl-R search and `~/.inputrc` (as application `neuromap`) come with readline.
final class LineEditor: LineSource {
    /// Entries kept in memory and in the history file.
    static let historyLimit: Int32 = 1000
    /// `$NEUROMAP_HISTORY` (empty: keep no file), else `.neuromap_history` in
    /// `$HOME` (as shells and Python honour it), else in the account's home.
    let historyPath: String?

    init(completions: @escaping TabCompletion.Source) {
        let environment = ProcessInfo.processInfo.environment
        if let custom = environment["NEUROMAP_HISTORY"] {
            historyPath = custom.isEmpty ? nil : custom
        } else {
            let home = environment["HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? NSHomeDirectory()
            historyPath = (home as NSString).appendingPathComponent(".neuromap_history")
        }
        rl_readline_name = UnsafePointer(strdup("neuromap"))
        // The REPL handles SIGINT itself (`PromptSignals`); readline still follows window size changes.
        rl_catch_signals = 0
        TabCompletion.install(completions)
        using_history()
        stifle_history(LineEditor.historyLimit)
        // A multi-line entry (a function typed over several lines) is one entry: up-arrow
        // recalls all of it. In the file, a timestamp line starts each entry, so its
        // lines are read back as one.
        history_write_timestamps = 1
        history_multiline_entries = 1
        loadHistory()
    }

    /// What was typed while a command ran: whole lines, the start of one, and
    /// whether Ctrl-D came (which ends the session, as in a shell).
    private var typedLines: [String] = []
    private var typedStart = ""
    private var typedEnd = false

    func read(prompt: String) -> InputEvent {
        if typedEnd && typedLines.isEmpty { return .end }
        if !typedLines.isEmpty { return .line(typedLines.removeFirst()) }
        PromptSignals.drain()
        Interruption.clear()
        LineHandler.received = nil
        PromptSignals.catchSuspend(true)
        defer { PromptSignals.catchSuspend(false) }
        rl_callback_handler_install(prompt) { LineHandler.receive($0) }
        if !typedStart.isEmpty {
            rl_insert_text(typedStart)
            rl_redisplay()
            typedStart = ""
        }
        while true {
            var sources = [pollfd(fd: STDIN_FILENO, events: Int16(POLLIN), revents: 0),
                           pollfd(fd: PromptSignals.wakeDescriptor, events: Int16(POLLIN), revents: 0)]
            let ready = poll(&sources, nfds_t(sources.count), -1)
            if Interruption.requested {
                abandonLine()
                return .interrupted
            }
            if PromptSignals.takeSuspend() {
                suspend()
                continue
            }
            if ready < 0 {
                if errno == EINTR { continue }
                rl_callback_handler_remove()
                return .end
            }
            if sources[0].revents != 0 {
                rl_callback_read_char()
                if let event = LineHandler.received { return event }
            }
        }
    }

    /// While a command runs the terminal is in its ordinary line mode, so a
    /// read returns whole lines, and nothing (0 bytes) for a Ctrl-D on an empty
    /// line. A thread watches standard input meanwhile and keeps both.
    func whileBusy(_ body: () -> Int32) -> Int32 {
        var stop: [Int32] = [-1, -1]
        guard pipe(&stop) == 0 else { return body() }
        let watcher = TypeAheadWatcher(stop: stop[0])
        let thread = Thread { watcher.watch() }
        thread.start()
        let status = body()
        var byte: UInt8 = 1
        _ = write(stop[1], &byte, 1)
        watcher.finished.wait()
        Glibc.close(stop[0])
        Glibc.close(stop[1])
        // A Ctrl-D byte that reached us raw (typed before the terminal left raw mode) ends input too.
        let end = watcher.bytes.firstIndex(of: 0x04)
        // Bytes that arrived while the terminal was still raw end lines with a carriage return.
        let text = (typedStart + String(decoding: watcher.bytes[..<(end ?? watcher.bytes.endIndex)], as: UTF8.self))
            .replacingOccurrences(of: "\r\n", with: "\n").replacingOccurrences(of: "\r", with: "\n")
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        typedStart = lines.removeLast()
        typedLines += lines
        typedEnd = typedEnd || watcher.sawEnd || end != nil
        return status
    }

    /// Ctrl-C at the prompt: shows `^C`, forgets the half-typed line (and any
    /// search), and leaves the terminal as it was; the next `read` starts afresh.
    private func abandonLine() {
        rl_free_line_state()
        rl_callback_sigcleanup()
        rl_replace_line("", 0)
        rl_point = 0
        rl_echo_signal_char(SIGINT)
        fputs("\n", rl_outstream ?? stdout)
        fflush(rl_outstream ?? stdout)
        rl_callback_handler_remove()
        using_history()
    }

    /// Ctrl-Z at the prompt: gives the shell back its terminal settings,
    /// stops, and on `fg` restores readline's and redraws the line.
    private func suspend() {
        PromptSignals.drain()
        rl_cleanup_after_signal()
        PromptSignals.suspendNow()
        rl_reset_after_signal()
        rl_forced_update_display()
    }

    func remember(_ line: String) {
        guard !line.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty, line != lastEntry else { return }
        add_history(line)
        if let historyPath { append_history(1, historyPath) }
    }

    func close() {
        if let historyPath { history_truncate_file(historyPath, LineEditor.historyLimit) }
    }

    private var lastEntry: String? {
        guard history_length > 0, let entry = history_get(history_base + history_length - 1), let text = entry.pointee.line else { return nil }
        return String(cString: text)
    }

    /// Reads the history file, creating it when missing (`append_history` only appends to a file that exists).
    private func loadHistory() {
        guard let historyPath else { return }
        if FileManager.default.fileExists(atPath: historyPath) {
            read_history(historyPath)
        } else if write_history(historyPath) != 0 {
            ScriptRunner.report("note: cannot write the history file \(historyPath); history will not be kept\n")
        }
    }
}

/// Where readline's callback interface hands over a finished line.
private enum LineHandler {
    static var received: InputEvent?

    /// Called by readline with the line (malloc'd) or NULL at end of input.
    /// Removing the handler here stops readline from printing the prompt again.
    static func receive(_ raw: UnsafeMutablePointer<CChar>?) {
        rl_callback_handler_remove()
        guard let raw else {
            LineHandler.received = .end
            return
        }
        LineHandler.received = .line(String(cString: raw))
        free(raw)
    }
}

/// Reads standard input on its own thread while a command runs, until told
/// to stop or until Ctrl-D (a read of 0 bytes).
private final class TypeAheadWatcher: @unchecked Sendable {
    private let stop: Int32
    var bytes: [UInt8] = []
    var sawEnd = false
    let finished = DispatchSemaphore(value: 0)

    init(stop: Int32) {
        self.stop = stop
    }

    func watch() {
        defer { finished.signal() }
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            var sources = [pollfd(fd: STDIN_FILENO, events: Int16(POLLIN), revents: 0), pollfd(fd: stop, events: Int16(POLLIN), revents: 0)]
            let ready = poll(&sources, 2, -1)
            if ready < 0 {
                if errno == EINTR { continue }
                return
            }
            if sources[1].revents != 0 { return }
            guard sources[0].revents != 0 else { continue }
            let got = read(STDIN_FILENO, &chunk, chunk.count)
            if got < 0 {
                if errno == EINTR || errno == EAGAIN { continue }
                return
            }
            if got == 0 {
                sawEnd = true
                return
            }
            bytes += chunk[0..<got]
        }
    }
}
