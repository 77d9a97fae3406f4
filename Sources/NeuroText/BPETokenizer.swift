import Foundation
import NeuroEngine

// Byte-level BPE as GPT-2 does it, and as Hugging Face's BPE model runs it:
// added tokens split out of the raw text, GPT-2's pattern cuts the rest into
// pieces, each piece's bytes become byte-level characters, and merges are
// applied lowest rank first (the leftmost among equals) until none applies.
// Pieces are cached, as Hugging Face caches them.

/// A byte-level BPE tokenizer (GPT-2's scheme), exact to Hugging Face's
/// `GPT2TokenizerFast`. Made by `TokenizerLoader.load(folder:)` from
/// `tokenizer.json`, or from `vocab.json` + `merges.txt`.
///
/// ```swift
/// let gpt2 = try BPETokenizer(vocabFile: "gpt2/vocab.json", mergesFile: "gpt2/merges.txt")
/// gpt2.tokens("Hello world")          // ["Hello", " world"]
/// try gpt2.decode(gpt2.encode(text))  // text, for every string
/// ```
public final class BPETokenizer: Tokenizer {
    let vocabulary: Vocabulary
    let model: BPEModel
    let addPrefixSpace: Bool
    let useRegex: Bool
    let frame: SequenceFrame
    /// Whether decoding maps byte-level characters back to bytes (else tokens are joined by spaces).
    let byteLevelDecoder: Bool
    let rawAddedTokens: AddedTokenMatcher
    let normalizedAddedTokens: AddedTokenMatcher
    public let specialTokens: SpecialTokens
    public let modelMaxLength: Int?

    init(vocabulary: Vocabulary, model: BPEModel, addPrefixSpace: Bool, useRegex: Bool, frame: SequenceFrame,
         byteLevelDecoder: Bool, specialTokens: SpecialTokens, modelMaxLength: Int?) {
        self.vocabulary = vocabulary
        self.model = model
        self.addPrefixSpace = addPrefixSpace
        self.useRegex = useRegex
        self.frame = frame
        self.byteLevelDecoder = byteLevelDecoder
        // There is no normalizer, so "normalized" tokens match the raw pieces left.
        self.rawAddedTokens = AddedTokenMatcher(vocabulary.added.filter { !$0.normalized })
        self.normalizedAddedTokens = AddedTokenMatcher(vocabulary.added.filter(\.normalized))
        self.specialTokens = specialTokens
        self.modelMaxLength = modelMaxLength
    }

    public var vocabularySize: Int { vocabulary.size }
    public var specialTokensPerText: Int { frame.count }

    public func encodeText(_ text: String) -> [Int] { encode(text, marking: nil) }

    public func encodeWords(_ text: String) -> [[Int]] {
        let ends = WordEnds()
        return ends.split(encode(text, marking: ends))
    }

    /// The ids of `text`, with the end of each pre-tokenizer piece marked in `ends` when given.
    private func encode(_ text: String, marking ends: WordEnds?) -> [Int] {
        var text = text
        return text.withUTF8 { bytes in
            var ids: [Int] = []
            ids.reserveCapacity(bytes.count / 3)
            for segment in rawAddedTokens.split(bytes, 0..<bytes.count) {
                switch segment {
                case .token(let id): ids.append(id); ends?.mark(ids.count)
                case .text(let range):
                    for inner in normalizedAddedTokens.split(bytes, range) {
                        switch inner {
                        case .token(let id): ids.append(id); ends?.mark(ids.count)
                        case .text(let piece): encodeSegment(bytes, piece, into: &ids, marking: ends)
                        }
                    }
                }
            }
            return ids
        }
    }

    /// One stretch between added tokens: the optional prefix space, GPT-2's pieces, BPE on each.
    private func encodeSegment(_ bytes: UnsafeBufferPointer<UInt8>, _ range: Range<Int>, into ids: inout [Int], marking ends: WordEnds?) {
        if addPrefixSpace && bytes[range.lowerBound] != 0x20 {
            var spaced: [UInt8] = [0x20]
            spaced.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[range]))
            spaced.withUnsafeBufferPointer { encodePieces($0, 0..<$0.count, into: &ids, marking: ends) }
        } else {
            encodePieces(bytes, range, into: &ids, marking: ends)
        }
    }

    private func encodePieces(_ bytes: UnsafeBufferPointer<UInt8>, _ range: Range<Int>, into ids: inout [Int], marking ends: WordEnds?) {
        if useRegex {
            ByteLevel.forEachPiece(bytes, range) {
                model.encodePiece(bytes, $0, into: &ids)
                ends?.mark(ids.count)
            }
        } else {
            model.encodePiece(bytes, range, into: &ids)
            ends?.mark(ids.count)
        }
    }

    public func addingSpecialTokens(to ids: [Int]) -> [Int] { frame.framing(ids) }

    public func decode(_ ids: [Int], skipSpecialTokens: Bool) throws -> String {
        let tokens = try vocabulary.entries(of: ids, skipSpecialTokens: skipSpecialTokens)
        guard byteLevelDecoder else { return tokens.joined(separator: " ") }
        var bytes: [UInt8] = []
        for token in tokens { ByteLevel.bytes(of: token, into: &bytes) }
        // Bytes that are not UTF-8 (a character cut between tokens) become U+FFFD,
        // one per maximal invalid sequence, as Rust's from_utf8_lossy does.
        return String(decoding: bytes, as: UTF8.self)
    }

    public func token(for id: Int) -> String? { vocabulary.token(for: id) }
    public func id(for token: String) -> Int? { vocabulary.id(for: token) }
    public func isSpecial(_ id: Int) -> Bool { vocabulary.specialIDs.contains(id) }
}

// MARK: - The BPE model

/// The vocabulary's merges and the cache of merged pieces.
final class BPEModel: @unchecked Sendable {
    /// (left id, right id) packed as `left << 32 | right` → `rank << 32 | merged id`.
    let merges: [UInt64: UInt64]
    /// The id of each byte's byte-level character, -1 when the vocabulary lacks it.
    let byteIDs: [Int]
    let unkID: Int?
    let fuseUnk: Bool
    /// When a piece is itself a vocabulary entry, take it whole (`ignore_merges`).
    let ignoreMerges: Bool
    let vocabulary: TokenIDs

    /// Pieces of at most this many bytes are cached, up to `cacheCapacity` of them
    /// (Hugging Face's limits).
    static let cacheableLength = 256
    static let cacheCapacity = 10_000
    private var cache: [String: [Int]] = [:]
    private let lock = NSLock()

    /// Throws when a merge names an entry the vocabulary lacks, naming
    /// `mergesSource` and the merge's line (`lines[rank]`) or index.
    init(vocabulary: TokenIDs, merges: [(String, String)], mergesSource: String, unkToken: String?,
         fuseUnk: Bool, ignoreMerges: Bool, lines: [Int]? = nil) throws {
        var table: [UInt64: UInt64] = [:]
        table.reserveCapacity(merges.count)
        for (rank, (left, right)) in merges.enumerated() {
            let l = Array(left.utf8), r = Array(right.utf8)
            guard let a = vocabulary[l], let b = vocabulary[r], let merged = vocabulary[l + r] else {
                let missing = vocabulary[l] == nil ? left : vocabulary[r] == nil ? right : left + right
                let place = lines.map { "line \($0[rank])" } ?? "merge \(rank)"
                throw EngineError(.file, "\(mergesSource): \(place) (\(jsonQuoted(left)) \(jsonQuoted(right))) "
                                  + "needs \(jsonQuoted(missing)), which is not in the vocabulary")
            }
            let key = UInt64(a) << 32 | UInt64(b)
            // A pair listed twice keeps its last rank, as Hugging Face's map of merges does.
            table[key] = UInt64(rank) << 32 | UInt64(merged)
        }
        self.merges = table
        self.byteIDs = (0..<256).map { b in
            Unicode.Scalar(ByteLevel.characterOfByte[b]).flatMap { vocabulary[Array(String($0).utf8)] } ?? -1
        }
        if let unkToken {
            guard let id = vocabulary[Array(unkToken.utf8)] else {
                throw EngineError(.file, "\(mergesSource): the unknown token \(jsonQuoted(unkToken)) is not in the vocabulary")
            }
            self.unkID = id
        } else {
            self.unkID = nil
        }
        self.fuseUnk = fuseUnk
        self.ignoreMerges = ignoreMerges
        self.vocabulary = vocabulary
    }

    /// Appends the ids of one piece (raw bytes; mapped to byte-level characters here).
    func encodePiece(_ bytes: UnsafeBufferPointer<UInt8>, _ range: Range<Int>, into ids: inout [Int]) {
        guard !range.isEmpty else { return }
        let key = UTF8Bytes.string(bytes, range)
        lock.lock()
        let known = cache[key]
        lock.unlock()
        if let known {
            ids.append(contentsOf: known)
            return
        }
        let merged = merge(bytes, range)
        if range.count < BPEModel.cacheableLength {
            lock.lock()
            if cache.count < BPEModel.cacheCapacity { cache[key] = merged }
            lock.unlock()
        }
        ids.append(contentsOf: merged)
    }

    /// BPE on one piece: its bytes as symbols, then merges by rank.
    private func merge(_ bytes: UnsafeBufferPointer<UInt8>, _ range: Range<Int>) -> [Int] {
        if ignoreMerges, let whole = vocabulary[Array(ByteLevel.string(of: bytes, range).utf8)] { return [whole] }
        // The first symbols: one per byte; bytes missing from the vocabulary
        // become the unknown token (consecutive ones fused when asked) or are dropped.
        var symbols: [Int] = []
        symbols.reserveCapacity(range.count)
        var pendingUnknown = false
        for i in range {
            let id = byteIDs[Int(bytes[i])]
            if id >= 0 {
                if pendingUnknown, let unkID { symbols.append(unkID) }
                pendingUnknown = false
                symbols.append(id)
            } else if let unkID {
                if pendingUnknown && !fuseUnk { symbols.append(unkID) }
                pendingUnknown = true
            }
        }
        if pendingUnknown, let unkID { symbols.append(unkID) }
        return applyMerges(symbols)
    }

    /// Merges adjacent pairs, always the lowest rank first and the leftmost
    /// among pairs of equal rank, until no pair has a merge (Hugging Face's
    /// `Word::merge_all` without dropout).
    private func applyMerges(_ start: [Int]) -> [Int] {
        let n = start.count
        guard n > 1 else { return start }
        var symbol = start
        var next = Array(1...n)
        next[n - 1] = -1
        var previous = Array(-1..<(n - 1))
        var alive = [Bool](repeating: true, count: n)
        var queue = MergeQueue()
        for i in 0..<(n - 1) {
            if let m = merges[UInt64(symbol[i]) << 32 | UInt64(symbol[i + 1])] { queue.push(rank: m >> 32, position: i, merged: Int(m & 0xFFFF_FFFF)) }
        }
        while let top = queue.pop() {
            let p = top.position
            guard alive[p], next[p] >= 0 else { continue }
            let right = next[p]
            // A queued pair is stale once either side has changed.
            guard let m = merges[UInt64(symbol[p]) << 32 | UInt64(symbol[right])], Int(m & 0xFFFF_FFFF) == top.merged else { continue }
            symbol[p] = top.merged
            alive[right] = false
            next[p] = next[right]
            if next[right] >= 0 { previous[next[right]] = p }
            if previous[p] >= 0, let m = merges[UInt64(symbol[previous[p]]) << 32 | UInt64(symbol[p])] {
                queue.push(rank: m >> 32, position: previous[p], merged: Int(m & 0xFFFF_FFFF))
            }
            if next[p] >= 0, let m = merges[UInt64(symbol[p]) << 32 | UInt64(symbol[next[p]])] {
                queue.push(rank: m >> 32, position: p, merged: Int(m & 0xFFFF_FFFF))
            }
        }
        var out: [Int] = []
        out.reserveCapacity(n)
        for i in 0..<n where alive[i] { out.append(symbol[i]) }
        return out
    }
}

/// A binary min-heap of candidate merges ordered by (rank, position).
private struct MergeQueue {
    private var keys: [UInt64] = []   // rank << 32 | position
    private var merged: [Int] = []

    mutating func push(rank: UInt64, position: Int, merged id: Int) {
        keys.append(rank << 32 | UInt64(position))
        merged.append(id)
        var i = keys.count - 1
        while i > 0 {
            let parent = (i - 1) / 2
            if keys[parent] <= keys[i] { break }
            keys.swapAt(parent, i)
            merged.swapAt(parent, i)
            i = parent
        }
    }

    mutating func pop() -> (position: Int, merged: Int)? {
        guard let first = keys.first else { return nil }
        let result = (position: Int(first & 0xFFFF_FFFF), merged: merged[0])
        let lastKey = keys.removeLast(), lastMerged = merged.removeLast()
        if !keys.isEmpty {
            keys[0] = lastKey
            merged[0] = lastMerged
            var i = 0
            while true {
                let l = 2 * i + 1, r = l + 1
                var smallest = i
                if l < keys.count && keys[l] < keys[smallest] { smallest = l }
                if r < keys.count && keys[r] < keys[smallest] { smallest = r }
                if smallest == i { break }
                keys.swapAt(i, smallest)
                merged.swapAt(i, smallest)
                i = smallest
            }
        }
        return result
    }
}
