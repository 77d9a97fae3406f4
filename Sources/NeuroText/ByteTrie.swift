// A trie over the UTF-8 bytes of vocabulary entries, for WordPiece's
// longest-match-first: one walk from a position finds the longest entry that
// starts there, where Hugging Face tries every shorter substring in a hash map.

/// A read-only byte trie mapping entries to ids.
struct ByteTrie: Sendable {
    /// Node `n`'s children are edges `edgeStart[n]..<edgeStart[n + 1]`, sorted by byte.
    private var edgeStart: [Int32] = []
    private var edgeByte: [UInt8] = []
    private var edgeTarget: [Int32] = []
    /// The id of the entry that ends at each node, or -1.
    private var value: [Int32] = []

    /// A trie of `entries` (UTF-8 bytes and id).
    init(_ entries: [(bytes: [UInt8], id: Int)]) {
        let sorted = entries.sorted { $0.bytes.lexicographicallyPrecedes($1.bytes) }
        // Breadth first: a node's children are made together, so its edges are contiguous.
        var queue: [(node: Int, lower: Int, upper: Int, depth: Int)] = [(0, 0, sorted.count, 0)]
        value = [-1]
        var starts: [Int32] = [0]
        var head = 0
        while head < queue.count {
            let (node, lower, upper, depth) = queue[head]
            head += 1
            var i = lower
            if i < upper && sorted[i].bytes.count == depth {
                value[node] = Int32(sorted[i].id)
                i += 1
                // A repeated entry keeps the last id given, as a dictionary would.
                while i < upper && sorted[i].bytes.count == depth {
                    value[node] = Int32(sorted[i].id)
                    i += 1
                }
            }
            starts[node] = Int32(edgeByte.count)
            while i < upper {
                let byte = sorted[i].bytes[depth]
                var j = i + 1
                while j < upper && sorted[j].bytes[depth] == byte { j += 1 }
                let child = value.count
                value.append(-1)
                starts.append(0)
                edgeByte.append(byte)
                edgeTarget.append(Int32(child))
                queue.append((child, i, j, depth + 1))
                i = j
            }
        }
        // Nodes are numbered in the order they are processed, so node n's
        // edges end where node n + 1's begin; the last node's end at the total.
        starts.append(Int32(edgeByte.count))
        edgeStart = starts
    }

    /// The end of the longest entry that begins at `bytes[start]` and lies
    /// within `bytes[..<end]`, with its id; nil when no entry begins there.
    @inline(__always)
    func longestMatch(_ bytes: UnsafeBufferPointer<UInt8>, from start: Int, to end: Int) -> (end: Int, id: Int)? {
        var node = 0
        var best: (end: Int, id: Int)? = nil
        var i = start
        while i < end {
            let byte = bytes[i]
            var low = Int(edgeStart[node]), high = Int(edgeStart[node + 1])
            var next = -1
            while low < high {
                let mid = (low + high) >> 1
                let b = edgeByte[mid]
                if b == byte { next = Int(edgeTarget[mid]); break }
                if b < byte { low = mid + 1 } else { high = mid }
            }
            if next < 0 { break }
            node = next
            i += 1
            let id = value[node]
            if id >= 0 { best = (i, Int(id)) }
        }
        return best
    }
}
