import CReadline
import Foundation
import NeuroLanguage

/// Tab completion through readline's C callbacks. The callbacks capture
/// nothing (they are C function pointers), so they reach the REPL through
/// the static `source`, and keep one completion's matches here between
/// readline's calls to the generator.
enum TabCompletion {
    /// Candidates for `word` given the line's text before it; nil lets
    /// readline complete a file name instead.
    typealias Source = (_ word: String, _ before: String) -> [String]?

    private static var source: Source = { _, _ in [] }
    private static var matches: [String] = []
    private static var nextMatch = 0
    /// The word being completed, to shorten the list shown (`model.W_` lists `W_E  W_pos …`).
    private static var typed = ""

    // readline keeps these pointers, so they are made once and never freed.
    private static let codeBreaks = strdup(CompletionContext.wordBreakCharacters)
    /// Inside a string the whole text after the quote is the word (`"pattern 0`, `"runs/m.safetensors`).
    private static let stringBreaks = strdup("\"'")
    /// After `:load` a path is the word.
    private static let pathBreaks = strdup(" \t\n\"'")

    static func install(_ source: @escaping Source) {
        TabCompletion.source = source
        rl_basic_word_break_characters = UnsafePointer(codeBreaks)
        rl_completion_word_break_hook = { TabCompletion.breakCharacters() }
        rl_attempted_completion_function = { text, start, _ in TabCompletion.attempt(text, start: start) }
        rl_completion_display_matches_hook = { list, count, _ in TabCompletion.display(list, count: count) }
    }

    /// The text of the line before byte offset `end`.
    private static func lineText(upTo end: Int32) -> String {
        guard let line = rl_line_buffer else { return "" }
        let count = min(Int(max(end, 0)), strlen(line))
        return line.withMemoryRebound(to: UInt8.self, capacity: count) {
            String(decoding: UnsafeBufferPointer(start: $0, count: count), as: UTF8.self)
        }
    }

    private static func breakCharacters() -> UnsafeMutablePointer<CChar>? {
        let before = lineText(upTo: rl_point)
        if before.hasPrefix(":") && before.contains(" ") { return pathBreaks }
        return CompletionContext.isInsideString(before) ? stringBreaks : codeBreaks
    }

    private static func attempt(_ text: UnsafePointer<CChar>?, start: Int32) -> UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? {
        guard let text else { return nil }
        let word = String(cString: text)
        let before = lineText(upTo: start)
        typed = word
        guard let found = source(word, before) else {
            rl_attempted_completion_over = 0
            return nil
        }
        rl_attempted_completion_over = 1
        // A space after a finished name; none after a field, a hook name in a string or a `:` command's argument.
        rl_completion_append_character = word.contains(".") || CompletionContext.isInsideString(before) ? 0 : 32
        matches = found
        nextMatch = 0
        return rl_completion_matches(text, { _, state in TabCompletion.generate(state) })
    }

    /// readline's generator protocol: state 0 starts over; each call returns
    /// one malloc'd match, then NULL.
    private static func generate(_ state: Int32) -> UnsafeMutablePointer<CChar>? {
        if state == 0 { nextMatch = 0 }
        guard nextMatch < matches.count else { return nil }
        defer { nextMatch += 1 }
        return strdup(matches[nextMatch])
    }

    /// Lists matches without the part before the last dot (or slash, for
    /// files) that was already typed, then redraws the prompt and line.
    private static func display(_ list: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?, count: Int32) {
        guard let list else { return }
        let separator: Character = rl_filename_completion_desired != 0 ? "/" : "."
        let dropped = typed.lastIndex(of: separator).map { typed.distance(from: typed.startIndex, to: $0) + 1 } ?? 0
        let shown = (0...Int(count)).map { i -> String in
            let match = list[i].map { String(cString: $0) } ?? ""
            return String(match.dropFirst(min(dropped, match.count)))
        }
        var copies = shown.map { strdup($0) } + [nil]
        defer { copies.forEach { free($0) } }
        let longest = shown.dropFirst().map(\.utf8.count).max() ?? 0
        rl_display_match_list(&copies, count, Int32(longest))
        rl_forced_update_display()
    }
}
