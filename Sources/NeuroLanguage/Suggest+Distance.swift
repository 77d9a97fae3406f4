extension Suggest {
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
}
