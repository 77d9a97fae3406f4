// The grokking epoch taken apart: train forward, backward, optimizer and
// test forward, each timed alone as the epoch runs it (one OpenBLAS thread:
// the epoch gives the test forward its own core), with the arithmetic and
// memory traffic each part needs at the least, so docs/PERFORMANCE.md can
// say how far each is from what the machine allows.

import NeuroEngine
import NeuroModels

/// What one part of the epoch must do at the least, counted on the model's
/// shapes: multiply-adds of its products (×2 for FLOP) and bytes of the
/// activations it writes and reads back once.
struct EpochPartCost {
    let flop: Double
    let bytes: Double

    /// The forward of `rows` examples at the last position as the trainer
    /// runs it, folded (`HookedTransformer+Folded.swift`): q/k/v of a table
    /// of `pairs` distinct (token, position) pairs; per pass W_O·W_in,
    /// W_O·W_U, the values times them for every pair, and W_out·W_U; per
    /// example two attention mixes over `positions` keys (scores, and rows
    /// of d_mlp and d_vocab_out for every head and key) and the product by
    /// W_out·W_U. Activations counted: q, the two patterns, MLP pre and
    /// post, the two mixes' outputs into the logits, the value tables; each
    /// written once and read once, 4 bytes an element.
    static func forward(_ c: TransformerConfig, rows: Int, pairs: Int, positions: Int) -> EpochPartCost {
        let (d, h, e, m, v) = (Double(c.dModel), Double(c.nHeads), Double(c.dHead), Double(c.dMLP), Double(c.dVocabOut))
        let (b, p, n) = (Double(rows), Double(positions), Double(pairs))
        let perPass = n * d * 3 * h * e + h * e * d * (m + v) + n * h * e * (m + v) + m * d * v
        let macs = perPass + b * (2 * h * p * e + h * p * (m + v) + m * v)
        let elements = b * (h * e + 2 * h * p + 2 * m + 2 * v) + n * h * (m + v)
        return EpochPartCost(flop: 2 * macs, bytes: 2 * 4 * elements)
    }

    /// The backward: each product's two gradients (twice the forward's
    /// arithmetic); each activation's gradient written and read once and the
    /// activation itself read once (1.5 times the forward's traffic).
    static func backward(_ forward: EpochPartCost) -> EpochPartCost {
        EpochPartCost(flop: 2 * forward.flop, bytes: 1.5 * forward.bytes)
    }

    /// AdamW: about 12 FLOP a parameter; reads weight, gradient and both
    /// moments, writes weight and moments (7 × 4 bytes).
    static func adamW(parameters: Int) -> EpochPartCost {
        EpochPartCost(flop: 12 * Double(parameters), bytes: 28 * Double(parameters))
    }
}

/// Emits one `grokking_p113_epoch_part` line per part: median ms, achieved
/// GFLOP/s and GB/s on the counts above, and the FLOP and bytes themselves;
/// then the single-thread sgemm rate on the MLP's shape, the yardstick.
func benchGrokkingEpochParts(_ context: inout Context) throws {
    let (data, model) = try grokkingSetup()
    let trainer = try Trainer(model: model, data: data)
    let batch = try Batch(data.train)
    let optimizer = trainer.optimizer
    let saved = BLASThreads.current
    BLASThreads.set(1)
    defer { BLASThreads.set(saved) }

    let (iterations, warmup) = context.runs(20)
    var forward: [Double] = [], backward: [Double] = [], step: [Double] = []
    for i in 0..<(iterations + warmup) {
        let t0 = nowNanoseconds()
        let loss = try GradMode.withGrad { try model.loss(on: batch) }
        let t1 = nowNanoseconds()
        try GradMode.withGrad { try loss.backward() }
        let t2 = nowNanoseconds()
        try optimizer.step()
        optimizer.zeroGrad()
        let t3 = nowNanoseconds()
        guard i >= warmup else { continue }
        forward.append(Double(t1 - t0) / 1e6)
        backward.append(Double(t2 - t1) / 1e6)
        step.append(Double(t3 - t2) / 1e6)
    }
    let test = try measure(iterations: iterations, warmup: warmup) { _ = try trainer.evaluate(data.test) }

    let pairs = try distinctPairs(data.train.tokens), testPairs = try distinctPairs(data.test.tokens)
    let positions = data.train.tokens.shape[1]
    let trainForward = EpochPartCost.forward(model.config, rows: data.train.count, pairs: pairs, positions: positions)
    let parameters = model.parameters.filter { $0.tensor.requiresGrad }.reduce(0) { $0 + $1.tensor.count }
    let parts: [(String, Timing, EpochPartCost)] = [
        ("train_forward", Timing(samples: forward.sorted()), trainForward),
        ("backward", Timing(samples: backward.sorted()), EpochPartCost.backward(trainForward)),
        ("optimizer", Timing(samples: step.sorted()), EpochPartCost.adamW(parameters: parameters)),
        ("test_forward", test, EpochPartCost.forward(model.config, rows: data.test.count, pairs: testPairs, positions: positions)),
    ]
    for (name, t, cost) in parts {
        emit([("name", .string("grokking_p113_epoch_part")), ("part", .string(name))] + timingFields(t) + [
            ("gflops", .number(gflops(cost.flop, t.median))), ("gbps", .number(cost.bytes / (t.median * 1e6))),
            ("gflop", .number(cost.flop / 1e9)), ("mb", .number(cost.bytes / 1e6)), ("blas_threads", .int(1)),
        ])
    }
    let operands = SgemmOperands(seed: 1)
    let sgemm = measure(iterations: iterations, warmup: warmup) { operands.run() }
    let (m, k, n) = (trainRows, dModel, dMLP)
    emit([("name", .string("grokking_p113_epoch_part")), ("part", .string("sgemm_yardstick"))] + timingFields(sgemm) + [
        ("gflops", .number(gflops(2 * Double(m * n * k), sgemm.median))), ("shape", .string("[\(m)x\(k)]·[\(k)x\(n)]")),
        ("blas_threads", .int(1)),
    ])
}

/// Distinct (token, position) pairs of a [rows, pos] token tensor.
private func distinctPairs(_ tokens: Tensor) throws -> Int {
    let values = tokens.toInts(), width = tokens.shape[1]
    return Set(values.enumerated().map { $0.element * width + $0.offset % width }).count
}
