// Added tokens ([CLS], [MASK], <|endoftext|>, ...) are found in the text
// before the model sees it, as Hugging Face's AddedVocabulary does: the
// leftmost match wins, the longest at that place; `single_word`, `lstrip` and
// `rstrip` apply; tokens with `normalized: false` are matched in the raw text,
// the others in the normalized text.

/// A token matched in the text as a whole, never split by the model.
struct AddedToken: Sendable {
    let content: String
    let id: Int
    /// Special tokens are left out by `decode(skipSpecialTokens: true)`.
    let special: Bool
    /// Matches only when no word character touches it on either side.
    let singleWord: Bool
    /// Takes the whitespace before it with it.
    let lstrip: Bool
    /// Takes the whitespace after it with it.
    let rstrip: Bool
    /// Matched in the normalized text (lower-cased for BERT) rather than the raw text.
    let normalized: Bool
}

/// A stretch of text for the model (a byte range), or an added token found in it.
enum TextSegment: Equatable {
    case text(Range<Int>)
    case token(Int)
}

/// Finds a set of added tokens in UTF-8 text.
struct AddedTokenMatcher: Sendable {
    /// Each pattern's bytes with its token, longest first.
    private let patterns: [(bytes: [UInt8], token: AddedToken)]
    /// Whether some pattern starts with this byte (a quick filter).
    private let startsPattern: [Bool]

    var isEmpty: Bool { patterns.isEmpty }

    /// A matcher for `tokens`, each matched as `pattern(token)` (its content,
    /// or its normalized content).
    init(_ tokens: [AddedToken], pattern: (AddedToken) -> String = { $0.content }) {
        var list: [(bytes: [UInt8], token: AddedToken)] = []
        for token in tokens {
            let bytes = Array(pattern(token).utf8)
            if !bytes.isEmpty { list.append((bytes, token)) }
        }
        list.sort { $0.bytes.count > $1.bytes.count }
        var starts = [Bool](repeating: false, count: 256)
        for entry in list { starts[Int(entry.bytes[0])] = true }
        patterns = list
        startsPattern = starts
    }

    /// `bytes[range]` cut at every added token found in it.
    func split(_ bytes: UnsafeBufferPointer<UInt8>, _ range: Range<Int>) -> [TextSegment] {
        guard !patterns.isEmpty else { return range.isEmpty ? [] : [.text(range)] }
        var segments: [TextSegment] = []
        var emitted = range.lowerBound   // everything before this is in `segments`
        var position = range.lowerBound
        while position < range.upperBound {
            guard startsPattern[Int(bytes[position])], let found = longestMatch(bytes, at: position, end: range.upperBound) else {
                position += 1
                continue
            }
            var start = position
            var stop = position + found.bytes.count
            let token = found.token
            if token.singleWord {
                let wordBefore = start > range.lowerBound && endsWithWordCharacter(bytes, range.lowerBound..<start)
                let wordAfter = stop < range.upperBound && startsWithWordCharacter(bytes, stop..<range.upperBound)
                if wordBefore || wordAfter {
                    position = stop
                    continue
                }
            }
            if token.lstrip {
                start = max(whitespaceStart(bytes, before: start, from: range.lowerBound), emitted)
            }
            if token.rstrip {
                stop = whitespaceEnd(bytes, after: stop, to: range.upperBound)
            }
            if emitted < start { segments.append(.text(emitted..<start)) }
            segments.append(.token(token.id))
            emitted = stop
            position = stop
        }
        if emitted < range.upperBound { segments.append(.text(emitted..<range.upperBound)) }
        return segments
    }

    /// The longest pattern that occurs at `position`.
    private func longestMatch(_ bytes: UnsafeBufferPointer<UInt8>, at position: Int,
                              end: Int) -> (bytes: [UInt8], token: AddedToken)? {
        for entry in patterns where entry.bytes.count <= end - position {
            var same = true
            for (k, b) in entry.bytes.enumerated() where bytes[position + k] != b {
                same = false
                break
            }
            if same { return entry }
        }
        return nil
    }
}

// MARK: - Word characters and whitespace at the edges of a match

/// Unicode `\w` as the Rust `regex` crate has it: alphabetic, marks, decimal
/// digits, connector punctuation and the joiners.
private func isWordCharacter(_ v: UInt32) -> Bool {
    guard let p = properties(v) else { return false }
    switch p.generalCategory {
    case .nonspacingMark, .spacingMark, .enclosingMark, .decimalNumber, .connectorPunctuation: return true
    default: return p.isAlphabetic || p.isJoinControl
    }
}

private func lastScalarStart(_ bytes: UnsafeBufferPointer<UInt8>, before end: Int, from start: Int) -> Int {
    var i = end - 1
    while i > start && bytes[i] & 0xC0 == 0x80 { i -= 1 }
    return i
}

private func endsWithWordCharacter(_ bytes: UnsafeBufferPointer<UInt8>, _ range: Range<Int>) -> Bool {
    let i = lastScalarStart(bytes, before: range.upperBound, from: range.lowerBound)
    return isWordCharacter(UTF8Bytes.scalar(bytes, at: i).value)
}

private func startsWithWordCharacter(_ bytes: UnsafeBufferPointer<UInt8>, _ range: Range<Int>) -> Bool {
    isWordCharacter(UTF8Bytes.scalar(bytes, at: range.lowerBound).value)
}

/// Where the whitespace that ends `bytes[from..<before]` begins.
private func whitespaceStart(_ bytes: UnsafeBufferPointer<UInt8>, before end: Int, from start: Int) -> Int {
    var i = end
    while i > start {
        let j = lastScalarStart(bytes, before: i, from: start)
        guard isWhiteSpace(UTF8Bytes.scalar(bytes, at: j).value) else { break }
        i = j
    }
    return i
}

/// Where the whitespace that begins `bytes[after..<to]` ends.
private func whitespaceEnd(_ bytes: UnsafeBufferPointer<UInt8>, after start: Int, to end: Int) -> Int {
    var i = start
    while i < end {
        let (v, length) = UTF8Bytes.scalar(bytes, at: i)
        guard isWhiteSpace(v) else { break }
        i += length
    }
    return i
}
