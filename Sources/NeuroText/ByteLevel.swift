// GPT-2's byte level: every byte written as a printable character, and
// GPT-2's pre-tokenization pattern
//
//     's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
//
// matched by hand, alternative by alternative in the pattern's order, over the
// UTF-8 bytes (no regex engine, so the lookahead is plain code). `\s` is
// Unicode White_Space as in Oniguruma, which Hugging Face uses; the
// contractions are lower-case only, as in the pattern.

enum ByteLevel {
    /// The character each byte is written as (GPT-2's `bytes_to_unicode`):
    /// printable Latin-1 bytes stand for themselves, the other 68 bytes take
    /// the characters from U+0100 up, in byte order.
    static let characterOfByte: [UInt32] = {
        var table = [UInt32](repeating: 0, count: 256)
        var next: UInt32 = 256
        for b in 0..<256 {
            let printable = (0x21...0x7E).contains(b) || (0xA1...0xAC).contains(b) || (0xAE...0xFF).contains(b)
            if printable {
                table[b] = UInt32(b)
            } else {
                table[b] = next
                next += 1
            }
        }
        return table
    }()

    /// The byte each of those characters stands for.
    static let byteOfCharacter: [UInt32: UInt8] = {
        var table: [UInt32: UInt8] = [:]
        for (b, c) in characterOfByte.enumerated() { table[c] = UInt8(b) }
        return table
    }()

    /// `bytes` written in byte-level characters (`" the"` → `"Ġthe"`).
    static func string(of bytes: UnsafeBufferPointer<UInt8>, _ range: Range<Int>) -> String {
        var out = String.UnicodeScalarView()
        for i in range {
            if let scalar = Unicode.Scalar(characterOfByte[Int(bytes[i])]) { out.append(scalar) }
        }
        return String(out)
    }

    /// The bytes a token stands for: each character's byte, or the token's
    /// own UTF-8 when some character is not a byte-level one (an added token).
    static func bytes(of token: String, into out: inout [UInt8]) {
        let start = out.count
        for scalar in token.unicodeScalars {
            guard let b = byteOfCharacter[scalar.value] else {
                out.removeSubrange(start...)
                out.append(contentsOf: token.utf8)
                return
            }
            out.append(b)
        }
    }

    // MARK: - GPT-2's pre-tokenization

    /// Character classes of the pattern: `\p{L}`, `\p{N}`, `\s`, and the rest.
    enum Class: UInt8 { case letter, number, space, other }

    private static let asciiClass: [Class] = (0..<128).map { v -> Class in
        switch v {
        case 0x41...0x5A, 0x61...0x7A: return .letter
        case 0x30...0x39: return .number
        case 0x09...0x0D, 0x20: return .space
        default: return .other
        }
    }

    @inline(__always)
    static func characterClass(_ v: UInt32) -> Class {
        if v < 0x80 { return asciiClass[Int(v)] }
        guard let p = properties(v) else { return .other }
        if p.isWhitespace { return .space }
        switch p.generalCategory {
        case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter: return .letter
        case .decimalNumber, .letterNumber, .otherNumber: return .number
        default: return .other
        }
    }

    /// Calls `body` with each piece of `bytes[range]` that GPT-2's pattern
    /// matches, in order; the pieces cover the range.
    static func forEachPiece(_ bytes: UnsafeBufferPointer<UInt8>, _ range: Range<Int>, _ body: (Range<Int>) -> Void) {
        let end = range.upperBound
        var i = range.lowerBound
        /// The end of the run of class `k` starting at `j`.
        func run(from j: Int, of k: Class) -> Int {
            var j = j
            while j < end {
                let (v, length) = UTF8Bytes.scalar(bytes, at: j)
                if characterClass(v) != k { break }
                j += length
            }
            return j
        }
        while i < end {
            let (v, length) = UTF8Bytes.scalar(bytes, at: i)
            // 's|'t|'re|'ve|'m|'ll|'d
            if v == 0x27 && i + 1 < end {
                let a = bytes[i + 1]
                if a == UInt8(ascii: "s") || a == UInt8(ascii: "t") || a == UInt8(ascii: "m") || a == UInt8(ascii: "d") {
                    body(i..<(i + 2))
                    i += 2
                    continue
                }
                if i + 2 < end {
                    let b = bytes[i + 2]
                    if (a == UInt8(ascii: "r") && b == UInt8(ascii: "e")) || (a == UInt8(ascii: "v") && b == UInt8(ascii: "e"))
                        || (a == UInt8(ascii: "l") && b == UInt8(ascii: "l")) {
                        body(i..<(i + 3))
                        i += 3
                        continue
                    }
                }
            }
            //  ?\p{L}+|  ?\p{N}+|  ?[^\s\p{L}\p{N}]+  with the optional space
            if v == 0x20 && i + 1 < end {
                let (w, wLength) = UTF8Bytes.scalar(bytes, at: i + 1)
                let k = characterClass(w)
                if k != .space {
                    let j = run(from: i + 1 + wLength, of: k)
                    body(i..<j)
                    i = j
                    continue
                }
            }
            let k = characterClass(v)
            if k != .space {
                let j = run(from: i + length, of: k)
                body(i..<j)
                i = j
                continue
            }
            // \s+(?!\S) | \s+ : a run of whitespace, less its last character
            // when a non-space follows and the run has more than one.
            var j = i + length
            var lastStart = i
            while j < end {
                let (w, wLength) = UTF8Bytes.scalar(bytes, at: j)
                if !isWhiteSpace(w) { break }
                lastStart = j
                j += wLength
            }
            let stop = (j < end && lastStart > i) ? lastStart : j
            body(i..<stop)
            i = stop
        }
    }
}
