import Foundation
import NeuroLanguage

/// Ctrl-C and Ctrl-Z at the prompt. While a command runs, SIGINT asks it to
/// stop at its next safe point (`Interruption`); the third Ctrl-C of one
/// command quits, for work that never reaches a safe point. While the prompt
/// waits, SIGINT (and SIGTSTP) write a byte to a pipe the line editor polls,
/// so it can clear the line (or suspend with the terminal restored) outside
/// the signal handler: readline's functions are not async-signal-safe. With
/// piped input, Ctrl-C between commands quits, as other filters do.
///
/// Everything the handlers touch is allocated before they are installed.
enum PromptSignals {
    private enum Slot: Int, CaseIterable {
        case pipeRead, pipeWrite, running, presses, interactive, suspend
    }

    private static let state: UnsafeMutablePointer<Int32> = {
        let pointer = UnsafeMutablePointer<Int32>.allocate(capacity: Slot.allCases.count)
        pointer.initialize(repeating: 0, count: Slot.allCases.count)
        pointer[Slot.pipeRead.rawValue] = -1
        pointer[Slot.pipeWrite.rawValue] = -1
        return pointer
    }()

    private static subscript(slot: Slot) -> Int32 {
        get { state[slot.rawValue] }
        set { state[slot.rawValue] = newValue }
    }

    /// Ctrl-C presses that make a running command give up and quit (the message in `interrupt` says 3).
    static let pressesToQuit: Int32 = 3

    /// The end of the pipe the line editor polls next to standard input.
    static var wakeDescriptor: Int32 { self[.pipeRead] }

    /// Replaces the SIGINT handler with the REPL's.
    static func install(interactive: Bool) {
        Interruption.prepare()
        var ends: [Int32] = [-1, -1]
        if pipe(&ends) == 0 {
            for end in ends { _ = fcntl(end, F_SETFL, fcntl(end, F_GETFL) | O_NONBLOCK) }
            self[.pipeRead] = ends[0]
            self[.pipeWrite] = ends[1]
        }
        self[.interactive] = interactive ? 1 : 0
        handle(SIGINT) { _ in PromptSignals.interrupt() }
    }

    /// Runs `body` as a command: Ctrl-C asks it to stop instead of clearing a line.
    static func running<T>(_ body: () -> T) -> T {
        self[.presses] = 0
        self[.running] = 1
        defer {
            self[.running] = 0
            drain()
            Interruption.clear()
        }
        return body()
    }

    /// Empties the pipe (its bytes only say "something happened").
    static func drain() {
        guard self[.pipeRead] >= 0 else { return }
        var bytes = [UInt8](repeating: 0, count: 64)
        while read(self[.pipeRead], &bytes, bytes.count) > 0 {}
    }

    // MARK: - Ctrl-Z

    /// While the prompt waits, Ctrl-Z only raises a flag (`takeSuspend`); at
    /// other times it stops the process at once, as usual.
    static func catchSuspend(_ catching: Bool) {
        self[.suspend] = 0
        if catching {
            handle(SIGTSTP) { _ in PromptSignals.requestSuspend() }
        } else {
            signal(SIGTSTP, SIG_DFL)
        }
    }

    /// Whether Ctrl-Z was pressed at the prompt (and lowers the flag).
    static func takeSuspend() -> Bool {
        defer { self[.suspend] = 0 }
        return self[.suspend] != 0
    }

    /// Stops the process as Ctrl-Z does, returning once the shell continues it.
    static func suspendNow() {
        signal(SIGTSTP, SIG_DFL)
        raise(SIGTSTP)
        catchSuspend(true)
    }

    // MARK: - Handlers (only async-signal-safe calls)

    private static func handle(_ number: Int32, _ handler: @convention(c) (Int32) -> Void) {
        var action = sigaction()
        action.__sigaction_handler.sa_handler = handler
        sigemptyset(&action.sa_mask)
        action.sa_flags = 0   // no SA_RESTART: a blocked poll returns EINTR at once
        sigaction(number, &action, nil)
    }

    private static func interrupt() {
        Interruption.request()
        if self[.running] != 0 {
            self[.presses] += 1
            if self[.presses] >= pressesToQuit { quitNow("\nneuromap: interrupted 3 times; quitting\n") }
        } else if self[.interactive] == 0 {
            quitNow("")
        }
        wake()
    }

    private static func requestSuspend() {
        self[.suspend] = 1
        wake()
    }

    private static func wake() {
        var byte: UInt8 = 1
        if self[.pipeWrite] >= 0 { _ = write(self[.pipeWrite], &byte, 1) }
    }

    private static func quitNow(_ message: StaticString) {
        if message.utf8CodeUnitCount > 0 { _ = write(STDERR_FILENO, message.utf8Start, message.utf8CodeUnitCount) }
        _exit(130)
    }
}
