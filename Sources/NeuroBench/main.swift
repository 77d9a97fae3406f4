// neuromap-bench: micro-benchmarks of the engine against raw OpenBLAS.
//
//     neuromap-bench [--only NAME[,NAME]] [--threads N] [--iterations N]
//
// Prints one JSON object per line. The first line is always
// {"name":"env", ...}; every other line has at least "name" and "ms", the
// median milliseconds per iteration over `iterations` timed runs after a
// warm-up, plus fields that depend on the benchmark. Shapes are those of the
// grokking model (p = 113, d_model 128, d_mlp 512, 3 tokens, 3,830 training
// pairs, 12,769 inputs in all).
//
// This is the one place outside NeuroEngine that calls cblas directly: the
// `blas_sgemm` line is the yardstick the engine's matmul is measured against.

import CBLAS
import Glibc
import NeuroEngine

// MARK: - Settings

/// The engine's threads when neither --threads nor OPENBLAS_NUM_THREADS says:
/// on the 2-core development machine 2 threads give the fastest sgemm
/// (see docs/PERFORMANCE.md).
let defaultThreads = 2
/// Timed runs per benchmark when --iterations does not say: the gemms take
/// 10–50 ms a run, the memory-bound kernels 1–5 ms.
let gemmIterations = 50
let memoryIterations = 200

/// Training pairs × tokens: the rows every per-token matrix has in one epoch.
let trainRows = 3830 * 3
let dModel = 128
let dMLP = 512

// MARK: - Output

/// One JSON value, written by hand (no Foundation needed).
enum JSON {
    case int(Int)
    case number(Double)
    case string(String)
    case ints([Int])

    var text: String {
        switch self {
        case .int(let v): return String(v)
        case .number(let v):
            // Three decimals are plenty for milliseconds and rates.
            return jsonNumber((v * 1000).rounded() / 1000)
        case .string(let s): return jsonQuoted(s)
        case .ints(let vs): return "[" + vs.map(String.init).joined(separator: ",") + "]"
        }
    }
}

func emit(_ fields: [(String, JSON)]) {
    let body = fields.map { JSON.string($0.0).text + ":" + $0.1.text }.joined(separator: ", ")
    print("{" + body + "}")
    fflush(stdout)
}

func fail(_ message: String, code: Int32 = 2) -> Never {
    fputs("neuromap-bench: \(message)\n", stderr)
    exit(code)
}

// MARK: - Timing

func nowNanoseconds() -> UInt64 {
    var t = timespec()
    clock_gettime(CLOCK_MONOTONIC, &t)
    return UInt64(t.tv_sec) * 1_000_000_000 + UInt64(t.tv_nsec)
}

struct Timing {
    /// Milliseconds per run, sorted.
    let samples: [Double]
    var median: Double {
        let n = samples.count
        return n % 2 == 1 ? samples[n / 2] : (samples[n / 2 - 1] + samples[n / 2]) / 2
    }
    var min: Double { samples.first ?? 0 }
}

/// Runs `body` `warmup` times untimed, then `iterations` times timed.
func measure(iterations: Int, warmup: Int, _ body: () throws -> Void) rethrows -> Timing {
    for _ in 0..<warmup { try body() }
    var samples: [Double] = []
    samples.reserveCapacity(iterations)
    for _ in 0..<iterations {
        let start = nowNanoseconds()
        try body()
        samples.append(Double(nowNanoseconds() - start) / 1e6)
    }
    return Timing(samples: samples.sorted())
}

// MARK: - Command line

struct Options {
    var only: [String]? = nil
    var threads: Int? = nil
    var iterations: Int? = nil
}

let benchmarkNames = ["blas_sgemm", "engine_matmul", "engine_matmul_backward", "softmax", "gelu", "layer_norm", "elementwise_chain", "attention_mix", "attention_by_head",
                      "grokking_p113_epoch", "run_with_cache_all", "patching_sweep_z_p113", "progress_250_checkpoints", "fuzz",
                      "tokenize_wordpiece_1mb", "tokenize_bpe_1mb", "bert_b1x128", "bert_b32x128", "scan_minilm", "sae_synthetic", "sae_step_standard", "sae_step_gated"]

let usage = """
usage: neuromap-bench [--only NAME[,NAME]] [--threads N] [--iterations N]
  --only NAME[,NAME]  run only these benchmarks (\(benchmarkNames.joined(separator: ", ")))
  --threads N         the engine's threads (default: $OPENBLAS_NUM_THREADS, else \(defaultThreads))
  --iterations N      timed runs per benchmark (default: \(gemmIterations) for gemms, \(memoryIterations) for the rest)
"""

func parseOptions(_ arguments: [String]) -> Options {
    var options = Options()
    var i = 0
    func value(_ flag: String) -> String {
        i += 1
        guard i < arguments.count else { fail("\(flag) needs a value\n\(usage)") }
        return arguments[i]
    }
    func positive(_ flag: String, _ text: String) -> Int {
        guard let n = Int(text), n > 0 else { fail("\(flag) needs a positive integer, got '\(text)'") }
        return n
    }
    while i < arguments.count {
        let argument = arguments[i]
        // Accept both "--flag value" and "--flag=value".
        var flag = argument
        var inline: String? = nil
        if argument.hasPrefix("--"), let eq = argument.firstIndex(of: "=") {
            flag = String(argument[..<eq])
            inline = String(argument[argument.index(after: eq)...])
        }
        switch flag {
        case "--only":
            let names = (inline ?? value(flag)).split(separator: ",").map { $0.trimmingWhitespace() }.filter { !$0.isEmpty }
            let unknown = names.filter { !benchmarkNames.contains($0) }
            if !unknown.isEmpty || names.isEmpty {
                fail("unknown benchmark \(unknown.map { "'\($0)'" }.joined(separator: ", "))"
                     + "; valid names: \(benchmarkNames.joined(separator: ", "))")
            }
            options.only = names
        case "--threads":
            options.threads = positive(flag, inline ?? value(flag))
        case "--iterations":
            options.iterations = positive(flag, inline ?? value(flag))
        case "-h", "--help":
            print(usage)
            exit(0)
        default:
            fail("unknown argument '\(argument)'\n\(usage)")
        }
        i += 1
    }
    return options
}

extension Substring {
    func trimmingWhitespace() -> String {
        var s = self
        while let c = s.first, c.isWhitespace { s.removeFirst() }
        while let c = s.last, c.isWhitespace { s.removeLast() }
        return String(s)
    }
}

// MARK: - Benchmarks

struct Context {
    let iterations: Int?
    /// sgemm time of this run, for engine_matmul's overhead.
    var sgemmMs: Double?

    func runs(_ fallback: Int) -> (iterations: Int, warmup: Int) {
        let n = iterations ?? fallback
        return (n, Swift.max(2, Swift.min(10, n / 5)))
    }
}

func gflops(_ flops: Double, _ ms: Double) -> Double { flops / (ms * 1e6) }
func gbps(_ bytes: Double, _ ms: Double) -> Double { bytes / (ms * 1e6) }

func timingFields(_ t: Timing) -> [(String, JSON)] {
    [("ms", .number(t.median)), ("min_ms", .number(t.min)), ("iterations", .int(t.samples.count))]
}

/// Random operands for the gemm benchmarks: A [m, k], B [k, n], C [m, n].
final class SgemmOperands {
    let m = trainRows, k = dModel, n = dMLP
    let a: UnsafeMutablePointer<Float>, b: UnsafeMutablePointer<Float>, c: UnsafeMutablePointer<Float>

    init(seed: UInt64) {
        var rng = RandomGenerator(seed: seed)
        // 64-byte aligned like the engine's buffers: glibc's malloc gives
        // large blocks 16-byte alignment, which makes sgemm measurably slower.
        func aligned(_ count: Int) -> UnsafeMutablePointer<Float> {
            UnsafeMutableRawPointer.allocate(byteCount: count * MemoryLayout<Float>.size, alignment: 64)
                .bindMemory(to: Float.self, capacity: count)
        }
        a = aligned(m * k)
        b = aligned(k * n)
        c = aligned(m * n)
        for i in 0..<(m * k) { a[i] = Float(rng.nextUniform() * 2 - 1) }
        for i in 0..<(k * n) { b[i] = Float(rng.nextUniform() * 2 - 1) }
        c.initialize(repeating: 0, count: m * n)
    }

    deinit { a.deallocate(); b.deallocate(); c.deallocate() }

    /// C = A·B, row-major, one call with OpenBLAS's own threads (as many as
    /// the engine uses; the engine itself keeps OpenBLAS at one thread per
    /// call and splits products among its own threads).
    func run() {
        openblas_set_num_threads(Int32(BLASThreads.current))
        defer { openblas_set_num_threads(1) }
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, blasint(m), blasint(n), blasint(k),
                    1, a, blasint(k), b, blasint(n), 0, c, blasint(n))
    }
}

/// Times raw `cblas_sgemm` on the engine_matmul shapes, C preallocated.
func timeSgemm(_ context: Context) -> Timing {
    let operands = SgemmOperands(seed: 1)
    let (iterations, warmup) = context.runs(gemmIterations)
    return measure(iterations: iterations, warmup: warmup) { operands.run() }
}

func benchSgemm(_ context: inout Context) {
    let (m, k, n) = (trainRows, dModel, dMLP)
    let t = timeSgemm(context)
    context.sgemmMs = t.median
    emit([("name", .string("blas_sgemm"))] + timingFields(t) + [
        ("gflops", .number(gflops(2 * Double(m * n * k), t.median))),
        ("shape", .string("[\(m)x\(k)]·[\(k)x\(n)]")),
    ])
}

func benchEngineMatmul(_ context: inout Context) throws {
    let (m, k, n) = (trainRows, dModel, dMLP)
    var rng = RandomGenerator(seed: 2)
    let a = try Tensor.randn([m, k], using: &rng), b = try Tensor.randn([k, n], using: &rng)
    let (iterations, warmup) = context.runs(gemmIterations)
    let t = try measure(iterations: iterations, warmup: warmup) {
        _ = try a.matmul(b)
    }
    var fields: [(String, JSON)] = [("name", .string("engine_matmul"))] + timingFields(t) + [
        ("gflops", .number(gflops(2 * Double(m * n * k), t.median))),
    ]
    if let base = context.sgemmMs {
        fields.append(("overhead_pct", .number((t.median / base - 1) * 100)))
    }
    // The same comparison with raw sgemm and the engine alternating call by
    // call (which goes first alternates too), so load from other processes
    // hits both alike: the median of the per-pair ratios.
    let raw = SgemmOperands(seed: 1)
    var ratios: [Double] = []
    for i in 0..<(warmup + iterations) {
        var rawNs: UInt64 = 0, engineNs: UInt64 = 0
        for turn in 0..<2 {
            let start = nowNanoseconds()
            if (turn + i) % 2 == 0 {
                raw.run()
                rawNs = nowNanoseconds() - start
            } else {
                _ = try a.matmul(b)
                engineNs = nowNanoseconds() - start
            }
        }
        if i >= warmup { ratios.append(Double(engineNs) / Double(rawNs)) }
    }
    fields.append(("overhead_pct_paired", .number((Timing(samples: ratios.sorted()).median - 1) * 100)))
    fields.append(("shape", .string("[\(m)x\(k)]·[\(k)x\(n)]")))
    emit(fields)
}

func benchEngineMatmulBackward(_ context: inout Context) throws {
    let (m, k, n) = (trainRows, dModel, dMLP)
    var rng = RandomGenerator(seed: 3)
    let a = try Tensor.randn([m, k], using: &rng).requiringGrad()
    let b = try Tensor.randn([k, n], using: &rng).requiringGrad()
    let seed = try Tensor.randn([m, n], using: &rng)
    let (iterations, warmup) = context.runs(gemmIterations)
    let t = try measure(iterations: iterations, warmup: warmup) {
        // Gradients set to none each step, like PyTorch's zero_grad().
        a.grad = nil
        b.grad = nil
        let c = try a.matmul(b)
        try c.backward(seed: seed)
    }
    emit([("name", .string("engine_matmul_backward"))] + timingFields(t) + [
        ("gflops", .number(gflops(3 * 2 * Double(m * n * k), t.median))),
        ("shape", .string("[\(m)x\(k)]·[\(k)x\(n)]")),
    ])
}

func benchSoftmax(_ context: inout Context) throws {
    var rng = RandomGenerator(seed: 4)
    // Attention patterns over all 12,769 inputs: [batch, heads, query, key];
    // the logits of the 3,830 training pairs at the last position.
    let cases: [(String, [Int])] = [("attention", [12769, 4, 3, 3]), ("logits", [3830, 113])]
    for (label, shape) in cases {
        let x = try Tensor.randn(shape, std: 3, using: &rng)
        let (iterations, warmup) = context.runs(memoryIterations)
        let t = try measure(iterations: iterations, warmup: warmup) {
            _ = try x.softmax(axis: -1)
        }
        let bytes = Double(2 * x.count * MemoryLayout<Float>.size)
        emit([("name", .string("softmax"))] + timingFields(t) + [
            ("gbps", .number(gbps(bytes, t.median))),
            ("case", .string(label)), ("shape", .ints(shape)),
        ])
    }
}

/// The fused attention as the folded grokking forward runs it on the 8,939
/// test pairs of p = 113: keys and values from a table of 227 (token,
/// position) rows, 4 heads over 3 positions, values 512 wide (the MLP's
/// inputs per head), heads summed; forward alone and forward with backward.
/// `gbps` counts the value rows read per example (4 bytes each).
func benchAttentionMix(_ context: inout Context) throws {
    var rng = RandomGenerator(seed: 6)
    let (b, p, h, e, width, pairs) = (8939, 3, 4, 32, 512, 227)
    let q = try Tensor.randn([b, 1, h, e], using: &rng), k = try Tensor.randn([pairs, h, e], using: &rng)
    let values = try Tensor.randn([h, pairs, width], using: &rng).permuted([1, 0, 2])
    var rows: [Int] = []
    for i in 0..<b { rows += [i % 113, 113 + (i / 113) % 113, 226] }
    let keyRows = try Tensor(ints: rows, shape: [b, p])
    let g = try Tensor.randn([b, 1, width], using: &rng)
    let bytes = Double(b * h * p * width * MemoryLayout<Float>.size)
    for backward in [false, true] {
        let (iterations, warmup) = context.runs(memoryIterations)
        let t = try measure(iterations: iterations, warmup: warmup) {
            if backward {
                let (qq, kk) = (q.clone().detached(), k.clone().detached())
                try qq.requiringGrad(); try kk.requiringGrad()
                let z = try Tensor.attention(q: qq, k: kk, v: values, scale: 0.18, causal: true, keyRows: keyRows, headsSummed: true).z
                try z.backward(seed: g)
            } else {
                _ = try Tensor.attention(q: q, k: k, v: values, scale: 0.18, causal: true, keyRows: keyRows, headsSummed: true)
            }
        }
        emit([("name", .string("attention_mix"))] + timingFields(t) + [
            ("gbps", .number(gbps(bytes, t.median))), ("case", .string(backward ? "forward+backward" : "forward")),
        ])
    }
}

/// Attention as one MiniLM layer runs it at batch 32 × 128 tokens: q, k and
/// v [32, 128, 12, 32] read in place from one [32, 128, 3·12·32] projection,
/// bidirectional, no padding (`Tensor.attentionByHead`). `gflops` counts the
/// scores and the mix (2·2·b·h·p²·d_head).
func benchAttentionByHead(_ context: inout Context) throws {
    var rng = RandomGenerator(seed: 7)
    let (b, p, h, e) = (32, 128, 12, 32)
    let qkv = try Tensor.randn([b, p, 3, h, e], using: &rng)
    let (q, k, v) = (try qkv.select(axis: 2, index: 0), try qkv.select(axis: 2, index: 1), try qkv.select(axis: 2, index: 2))
    let (iterations, warmup) = context.runs(memoryIterations)
    let t = try GradMode.withNoGrad {
        try measure(iterations: iterations, warmup: warmup) {
            _ = try Tensor.attentionByHead(q: q, k: k, v: v, scale: 1 / Double(e).squareRoot(), causal: false)
        }
    }
    emit([("name", .string("attention_by_head"))] + timingFields(t) + [
        ("gflops", .number(gflops(4 * Double(b * h * p * p * e), t.median))), ("shape", .ints([b, p, h, e])),
    ])
}

/// Exact GELU on one MiniLM layer's MLP activations at batch 32 × 128 tokens ([4096, 1536]).
func benchGelu(_ context: inout Context) throws {
    var rng = RandomGenerator(seed: 6)
    let x = try Tensor.randn([4096, 1536], std: 2, using: &rng)
    let (iterations, warmup) = context.runs(memoryIterations)
    let t = try GradMode.withNoGrad { try measure(iterations: iterations, warmup: warmup) { _ = try x.gelu() } }
    emit([("name", .string("gelu"))] + timingFields(t) + [
        ("gbps", .number(gbps(Double(2 * x.count * MemoryLayout<Float>.size), t.median))),
        ("ns_per_element", .number(t.median * 1e6 / Double(x.count))), ("shape", .ints(x.shape)),
    ])
}

func benchLayerNorm(_ context: inout Context) throws {
    let shape = [trainRows, dModel]
    var rng = RandomGenerator(seed: 5)
    let x = try Tensor.randn(shape, using: &rng)
    let weight = try Tensor.randn([dModel], mean: 1, std: 0.1, using: &rng)
    let bias = try Tensor.randn([dModel], std: 0.1, using: &rng)
    let (iterations, warmup) = context.runs(memoryIterations)
    let t = try measure(iterations: iterations, warmup: warmup) {
        _ = try x.layerNorm(weight: weight, bias: bias)
    }
    // Minimal traffic: read x, write the output (weight and bias are tiny).
    let bytes = Double((2 * x.count + 2 * dModel) * MemoryLayout<Float>.size)
    emit([("name", .string("layer_norm"))] + timingFields(t) + [
        ("gbps", .number(gbps(bytes, t.median))), ("shape", .ints(shape)),
    ])
}

func benchElementwiseChain(_ context: inout Context) throws {
    let shape = [trainRows, dMLP]
    var rng = RandomGenerator(seed: 6)
    let x = try Tensor.randn(shape, using: &rng)
    let y = try Tensor.randn(shape, using: &rng)
    let z = try Tensor.randn(shape, using: &rng)
    let (iterations, warmup) = context.runs(memoryIterations)
    let t = try measure(iterations: iterations, warmup: warmup) {
        _ = try ((x * y) + z).relu()
    }
    let element = Double(x.count * MemoryLayout<Float>.size)
    // Minimal: read x, y, z and write the result once. Actual, op by op:
    // mul reads 2 writes 1, add reads 2 writes 1, relu reads 1 writes 1.
    emit([("name", .string("elementwise_chain"))] + timingFields(t) + [
        ("gbps", .number(gbps(4 * element, t.median))),
        ("gbps_actual", .number(gbps(8 * element, t.median))),
        ("shape", .ints(shape)),
    ])
}

// MARK: - Main

let options = parseOptions(Array(CommandLine.arguments.dropFirst()))

if let threads = options.threads {
    BLASThreads.set(threads)
} else if let env = getenv("OPENBLAS_NUM_THREADS"), let n = Int(String(cString: env)), n > 0 {
    BLASThreads.set(n)   // the engine starts from OpenBLAS's reading of it; set again so the report is certain.
} else {
    BLASThreads.set(defaultThreads)
}

emit([("name", .string("env")), ("ms", .int(0)), ("blas_threads", .int(BLASThreads.current)),
      ("cores", .int(Int(sysconf(Int32(_SC_NPROCESSORS_ONLN)))))])

let selected = options.only.map { only in benchmarkNames.filter { only.contains($0) } } ?? benchmarkNames
var context = Context(iterations: options.iterations, sgemmMs: nil)
// engine_matmul's overhead needs sgemm from the same run, printed or not.
if selected.contains("engine_matmul") && !selected.contains("blas_sgemm") {
    context.sgemmMs = timeSgemm(context).median
}

do {
    for name in selected {
        switch name {
        case "blas_sgemm": benchSgemm(&context)
        case "engine_matmul": try benchEngineMatmul(&context)
        case "engine_matmul_backward": try benchEngineMatmulBackward(&context)
        case "softmax": try benchSoftmax(&context)
        case "gelu": try benchGelu(&context)
        case "layer_norm": try benchLayerNorm(&context)
        case "elementwise_chain": try benchElementwiseChain(&context)
        case "attention_mix": try benchAttentionMix(&context)
        case "attention_by_head": try benchAttentionByHead(&context)
        case "grokking_p113_epoch": try benchGrokkingEpoch(&context)
        case "run_with_cache_all": try benchRunWithCacheAll(&context)
        case "patching_sweep_z_p113": try benchPatchingSweep(&context)
        case "progress_250_checkpoints": try benchProgressMeasures(&context)
        case "fuzz": try benchFuzz(&context)
        case "tokenize_wordpiece_1mb": try benchTokenizeWordPiece(&context)
        case "tokenize_bpe_1mb": try benchTokenizeBPE(&context)
        case "bert_b1x128": try benchBERT(&context, batch: 1)
        case "bert_b32x128": try benchBERT(&context, batch: 32)
        case "scan_minilm": try benchScanMiniLM(&context)
        case "sae_synthetic": try benchSAESynthetic(&context)
        case "sae_step_standard": try benchSAEStep(&context, kind: .standard)
        case "sae_step_gated": try benchSAEStep(&context, kind: .gated)
        default: fail("no benchmark named '\(name)'")
        }
    }
} catch {
    fail("benchmark failed: \(error)", code: 1)
}
