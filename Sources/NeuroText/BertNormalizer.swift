import Foundation

// BERT's text normalization as Hugging Face's BertNormalizer does it, in its
// order: clean the text (drop NUL, U+FFFD and control/format/private-use
// characters, turn every whitespace into a space), put spaces around CJK
// ideographs, strip accents (NFD, then drop nonspacing marks), lower-case
// (each character's full lower-case mapping, on its own). ASCII goes through
// a short path; everything else through the Unicode properties.

/// The options of Hugging Face's `BertNormalizer`.
struct BertNormalizer: Sendable {
    var cleanText = true
    var handleChineseChars = true
    /// `strip_accents`, already resolved (`null` means: when lower-casing).
    var stripAccents = true
    var lowercase = true

    /// Appends the normalized UTF-8 of `bytes[range]` to `out`.
    func normalize(_ bytes: UnsafeBufferPointer<UInt8>, _ range: Range<Int>, into out: inout [UInt8],
                   decompositions: DecompositionCache) {
        var run = CombiningRun()
        var i = range.lowerBound
        while i < range.upperBound {
            let (v, length) = UTF8Bytes.scalar(bytes, at: i)
            i += length
            if v < 0x80 && run.isEmpty {
                // ASCII: no accents, no CJK, a one-byte case mapping.
                var c = v
                if cleanText {
                    if c == 0x09 || c == 0x0A || c == 0x0D { c = 0x20 }
                    else if c < 0x20 || c == 0x7F { continue }
                }
                if lowercase && c >= 0x41 && c <= 0x5A { c += 0x20 }
                out.append(UInt8(c))
                continue
            }
            var c = v
            if cleanText {
                if c == 0 || c == 0xFFFD || isControl(c) { continue }
                if isWhiteSpace(c) { c = 0x20 }
            }
            if handleChineseChars && isChineseCharacter(c) {
                emit(0x20, &run, &out, decompositions)
                emit(c, &run, &out, decompositions)
                emit(0x20, &run, &out, decompositions)
            } else {
                emit(c, &run, &out, decompositions)
            }
        }
        flush(&run, &out)
    }

    /// Passes one character of the cleaned text on to accent stripping and lower-casing.
    @inline(__always)
    private func emit(_ c: UInt32, _ run: inout CombiningRun, _ out: inout [UInt8], _ decompositions: DecompositionCache) {
        guard stripAccents else {
            finish(c, &out)
            return
        }
        if c < 0x80 {
            flush(&run, &out)
            finish(c, &out)
            return
        }
        // NFD: the full canonical decomposition, each run of combining marks in
        // canonical order (stable by combining class). Starters end a run.
        for d in decompositions.decomposition(of: c) {
            let combiningClass = properties(d)?.canonicalCombiningClass.rawValue ?? 0
            if combiningClass == 0 {
                flush(&run, &out)
                run.starter = d
            } else {
                run.marks.append((combiningClass, d))
            }
        }
    }

    /// Sends the held starter and its sorted marks on, nonspacing marks dropped.
    private func flush(_ run: inout CombiningRun, _ out: inout [UInt8]) {
        if let starter = run.starter { finish(starter, &out) }
        if !run.marks.isEmpty {
            // Stable sort by combining class (insertion sort: runs are short).
            var marks = run.marks
            for k in 1..<max(marks.count, 1) {
                let item = marks[k]
                var j = k - 1
                while j >= 0 && marks[j].0 > item.0 {
                    marks[j + 1] = marks[j]
                    j -= 1
                }
                marks[j + 1] = item
            }
            for (_, mark) in marks where !isNonspacingMark(mark) { finish(mark, &out) }
        }
        run = CombiningRun()
    }

    /// The last steps for one character: drop it if it is a nonspacing mark
    /// (when stripping accents), lower-case it, write its UTF-8.
    @inline(__always)
    private func finish(_ c: UInt32, _ out: inout [UInt8]) {
        if c < 0x80 {
            out.append(UInt8(lowercase && c >= 0x41 && c <= 0x5A ? c + 0x20 : c))
            return
        }
        if stripAccents && isNonspacingMark(c) { return }
        if lowercase, let p = properties(c), p.changesWhenLowercased {
            for s in p.lowercaseMapping.unicodeScalars { UTF8Bytes.append(s.value, to: &out) }
        } else {
            UTF8Bytes.append(c, to: &out)
        }
    }
}

/// A starter held back until the combining marks after it are known.
private struct CombiningRun {
    var starter: UInt32? = nil
    var marks: [(UInt8, UInt32)] = []
    var isEmpty: Bool { starter == nil && marks.isEmpty }
}

// MARK: - Character classes

/// Control, format and private-use characters (Cc, Cf, Co), which BERT's
/// cleaning drops; tab, newline and carriage return are whitespace instead.
func isControl(_ v: UInt32) -> Bool {
    if v == 0x09 || v == 0x0A || v == 0x0D { return false }
    if v < 0x20 || v == 0x7F { return true }
    guard v >= 0x80, let p = properties(v) else { return false }
    switch p.generalCategory {
    case .control, .format, .privateUse: return true
    default: return false
    }
}

func isNonspacingMark(_ v: UInt32) -> Bool {
    v >= 0x300 && properties(v)?.generalCategory == .nonspacingMark
}

/// The CJK ideograph blocks BERT puts spaces around, exactly as Hugging
/// Face lists them (its fifth range starts at U+2B920, not U+2B820).
func isChineseCharacter(_ v: UInt32) -> Bool {
    (0x4E00...0x9FFF).contains(v) || (0x3400...0x4DBF).contains(v) || (0x20000...0x2A6DF).contains(v)
        || (0x2A700...0x2B73F).contains(v) || (0x2B740...0x2B81F).contains(v) || (0x2B920...0x2CEAF).contains(v)
        || (0xF900...0xFAFF).contains(v) || (0x2F800...0x2FA1F).contains(v)
}

/// Punctuation as BERT splits it: every ASCII punctuation or symbol
/// character (`$`, `+`, `^`, `` ` ``, `|`, `~` included), and every character
/// of a Unicode punctuation category (Pc, Pd, Ps, Pe, Pi, Pf, Po).
func isBertPunctuation(_ v: UInt32) -> Bool {
    if v < 0x80 {
        return (0x21...0x2F).contains(v) || (0x3A...0x40).contains(v) || (0x5B...0x60).contains(v) || (0x7B...0x7E).contains(v)
    }
    guard let p = properties(v) else { return false }
    switch p.generalCategory {
    case .connectorPunctuation, .dashPunctuation, .openPunctuation, .closePunctuation,
         .initialPunctuation, .finalPunctuation, .otherPunctuation: return true
    default: return false
    }
}

// MARK: - Canonical decompositions

/// Each character's full canonical decomposition (NFD of it alone), computed
/// once per character and shared; safe to use from several threads.
final class DecompositionCache: @unchecked Sendable {
    private var table: [UInt32: [UInt32]] = [:]
    private let lock = NSLock()

    func decomposition(of v: UInt32) -> [UInt32] {
        lock.lock()
        if let known = table[v] {
            lock.unlock()
            return known
        }
        lock.unlock()
        var result = [v]
        if let scalar = Unicode.Scalar(v) {
            result = String(Character(scalar)).decomposedStringWithCanonicalMapping.unicodeScalars.map(\.value)
        }
        lock.lock()
        table[v] = result
        lock.unlock()
        return result
    }
}
