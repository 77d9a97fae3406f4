/// "Did you mean" for the whole project: one distance, one rule for what is
/// close enough to suggest. Every layer's messages (unknown names, hooks,
/// arguments, weights, prompt commands) use it.
///
/// ```swift
/// Suggest.closest("esle", among: ["else", "if"])            // "else"
/// Suggest.ranked("embd", among: ["embed", "k", "v"])         // ["embed"]
/// ```
public enum Suggest {
    /// The number of typing mistakes between two words: letters inserted,
    /// deleted or changed, and — unlike plain edit distance — two neighbouring
    /// letters swapped counted as one (`esle` is one mistake from `else`).
    /// The optimal-string-alignment distance.
    ///
    /// ```swift
    /// Suggest.typoDistance("esle", "else")   // 1
    /// Suggest.typoDistance("prnt", "print")  // 1
    /// ```
    public static func typoDistance(_ a: String, _ b: String) -> Int {
        let x = Array(a), y = Array(b)
        if x.isEmpty || y.isEmpty { return max(x.count, y.count) }
        // Three rows of the table: two back (for swaps), one back, this one.
        var twoBack = [Int](repeating: 0, count: y.count + 1)
        var previous = Array(0...y.count)
        var current = [Int](repeating: 0, count: y.count + 1)
        for i in 1...x.count {
            current[0] = i
            for j in 1...y.count {
                let change = x[i - 1] == y[j - 1] ? 0 : 1
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + change)
                if i > 1, j > 1, x[i - 1] == y[j - 2], x[i - 2] == y[j - 1] {
                    current[j] = min(current[j], twoBack[j - 2] + 1)
                }
            }
            (twoBack, previous, current) = (previous, current, twoBack)
        }
        return previous[y.count]
    }

    /// How many mistakes a word of this length may have and still be
    /// suggested for: a third of its letters, at least `minimum`.
    public static func allowance(for word: String, minimum: Int = 1) -> Int {
        max(minimum, word.count / 3)
    }

    /// The candidate closest to `word` (case ignored), if it is within the
    /// allowance; ties go to the alphabetically first.
    public static func closest(_ word: String, among candidates: [String], minimumAllowance: Int = 1) -> String? {
        ranked(word, among: candidates, limit: 1, minimumAllowance: minimumAllowance).first
    }

    /// Up to `limit` candidates within the allowance of `word` (or ending in
    /// it, as `blocks.0.hook_resid_post` ends in `hook_resid_post`), closest
    /// first. `allowance` replaces the rule for names whose typed part is
    /// only their end (a hook's full name: its local part counts).
    public static func ranked(_ word: String, among candidates: [String], limit: Int = 3, minimumAllowance: Int = 1,
                              allowance fixed: Int? = nil, acceptingSuffix: Bool = false) -> [String] {
        let typed = word.lowercased(), allowed = fixed ?? allowance(for: word, minimum: minimumAllowance)
        let length = typed.count
        var seen = Set<String>()
        let scored = candidates.filter { $0 != word && seen.insert($0).inserted }.compactMap { name -> (name: String, distance: Int)? in
            // The distance is at least the difference in length: most names are ruled out without the table.
            let suffix = acceptingSuffix && name.hasSuffix(word)
            guard abs(name.count - length) <= allowed || suffix else { return nil }
            let distance = typoDistance(typed, name.lowercased())
            if distance <= allowed { return (name, distance) }
            return acceptingSuffix && name.hasSuffix(word) ? (name, allowed + 1) : nil
        }
        return scored.sorted { $0.distance != $1.distance ? $0.distance < $1.distance : $0.name < $1.name }.prefix(limit).map(\.name)
    }
}
