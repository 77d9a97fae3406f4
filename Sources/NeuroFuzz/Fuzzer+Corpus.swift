import Foundation
import NeuroLanguage
import NeuroLab

extension Fuzzer {
    // MARK: - Corpus

    /// What mutations start from unless a caller hands over more (the tests
    /// add the golden scripts, the benchmark the examples): the built-in
    /// scripts and the standard library.
    public static var defaultCorpus: [String] {
        builtInCorpus + StandardLibrary.files.compactMap { try? String(contentsOfFile: $0, encoding: .utf8) }
    }

    /// Every `.nmap` file under `folder`, in path order (for a corpus).
    public static func scripts(under folder: URL) -> [String] {
        guard let walker = FileManager.default.enumerator(at: folder, includingPropertiesForKeys: nil) else { return [] }
        return walker.compactMap { $0 as? URL }.filter { $0.pathExtension == "nmap" }
            .sorted { $0.path < $1.path }.compactMap { try? String(contentsOf: $0, encoding: .utf8) }
    }

    /// Small scripts touching every part of the language.
    public static let builtInCorpus: [String] = [
        """
        x = 1 + 2 * 3 - 4 / 2 ^ 2 % 3
        y = -x ^ 2
        print(x, y, x == y, x != y and not (x < y or x >= y))
        s = "a" + 'b' + "\\n\\t\\\\"
        print(s[0], s[-1], s[1:], len(s), str(3.5) + "!")
        """,
        """
        xs = [1, [2, 3], {k: 4}]
        xs[1][0] = 9
        xs[2].k += 1
        r = {lr: 1e-3, wd: 1.0, nested: {deep: [1, 2]}}
        r.nested.deep[1] = 5
        print(xs, r["lr"], keys(r), xs[0:2], xs[::2], (0..10)[3], list(2..5))
        """,
        """
        total = 0
        for i in 0..10 {
            if i % 2 == 0 { continue } else if i > 7 { break }
            total += i
        }
        n = 0
        while n < 5 { n = n + 1 }
        for ch in "abc" { print(ch) }
        for k in {a: 1, b: 2} { print(k) }
        print(total, n)
        """,
        """
        fn fib(n) { if n < 2 { return n }; fib(n - 1) + fib(n - 2) }
        fn make_counter(start: 0) {
            count = start
            fn next() { count = count + 1; count }
            next
        }
        c = make_counter(start: 10)
        c(); c()
        add = fn(a, b: 1) { a + b }
        print(fib(10), c(), add(1), add(1, b: 5), add(b: 2, a: 3))
        """,
        """
        t = reshape(arange(24), [2, 3, 4])
        print(t.shape, t.dtype, t.rank, t.size, t[0, :, 1], t[-1, 1:, ::2].shape)
        m = tensor([[1, 2], [3, 4]])
        print(m @ m, m * 2 + 1, m.T, m.sum(), m.mean(axis: 0), m.argmax(axis: -1))
        print(einsum("ij,jk->ik", m, m), softmax(m, axis: -1).sum(axis: -1))
        z = zeros([2, 3]) + ones([3]) * tensor([1, 2, 3])
        print(z, randn([2, 2], seed: 3).shape, m > 2, m[m > 2])
        """,
        """
        data = modular(p: 7, train: 0.5, seed: 1)
        print(data.p, data.size, data.train.size, data.tokens.shape, data.a[0:3])
        patch embed with corrupt(a + 1)
        ablate mlp_post 0 with mean
        ablate pattern 0 head 1 pos 2 with zero
        hook blocks.0.mlp.hook_post with fn(x) { x * 0 }
        train model on data epochs 5 lr 1e-2
        use model on data
        """,
        """
        fn f(x) { g(x) }
        fn g(x) { x + "a" }
        import "missing.nmap"
        return 1
        f(1)
        zeros([1000000, 1000000])
        """,
    ]
}
