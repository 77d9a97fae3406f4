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
    /// Saves what must outlive the session.
    func close()
}

/// Piped input: plain lines, no prompt, no history.
final class PlainLines: LineSource {
    func read(prompt: String) -> InputEvent {
        Swift.readLine(strippingNewline: true).map(InputEvent.line) ?? .end
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

    func remember(_ line: String) {}
    func close() {}
}

/// The terminal, through GNU readline's callback interface: this loop, not
/// readline, waits for input, so Ctrl-C can be noticed (through
/// `PromptSignals`' pipe) and handled outside the signal handler. Emacs keys,
/// Ctrl-R search and `~/.inputrc` (as application `neuromap`) come with readline.
final class LineEditor: LineSource {
    /// Entries kept in memory and in the history file.
    static let historyLimit: Int32 = 1000
    /// `$NEUROMAP_HISTORY` (empty: keep no file), else `~/.neuromap_history`.
    let historyPath: String?

    init(completions: @escaping TabCompletion.Source) {
        let environment = ProcessInfo.processInfo.environment
        if let custom = environment["NEUROMAP_HISTORY"] {
            historyPath = custom.isEmpty ? nil : custom
        } else {
            historyPath = (NSHomeDirectory() as NSString).appendingPathComponent(".neuromap_history")
        }
        rl_readline_name = UnsafePointer(strdup("neuromap"))
        // The REPL handles SIGINT itself (`PromptSignals`); readline still follows window size changes.
        rl_catch_signals = 0
        TabCompletion.install(completions)
        using_history()
        stifle_history(LineEditor.historyLimit)
        loadHistory()
    }

    func read(prompt: String) -> InputEvent {
        PromptSignals.drain()
        Interruption.clear()
        LineHandler.received = nil
        PromptSignals.catchSuspend(true)
        defer { PromptSignals.catchSuspend(false) }
        rl_callback_handler_install(prompt) { LineHandler.receive($0) }
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
        guard !line.trimmingCharacters(in: .whitespaces).isEmpty, line != lastEntry else { return }
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
