import Foundation
import NeuroEngine
import NeuroLanguage
import NeuroPlots
import NeuroModels
import NeuroAnalysis

/// Built-ins that make datasets: modular arithmetic, plain addition, and
/// the symmetric group.
extension Builtins {
    static let modular = Builtin("modular", "modular(op: \"+\", p: 113, train: 0.3, seed: 598)",
                                 "modular arithmetic (a op b) mod p over all p² pairs; op is + - * / a^2+b^2 a^3+ab",
                                 parameters: ["op", "p", "train", "seed"], quadratic: (1, "p")) { args in
        let opName = try args.string(0, "op", default: "+")
        guard let op = ModularOperation(rawValue: opName) else {
            let names = ModularOperation.allCases.map(\.rawValue)
            let hint = Suggest.closest(opName, among: names).map { "; did you mean '\($0)'?" } ?? ""
            throw args.error("unknown operation '\(opName)'\(hint) (one of \(names.joined(separator: ", ")))")
        }
        let data = try Dataset.modular(op, p: args.int(1, "p", default: 113), trainFraction: args.number(2, "train", default: 0.3),
                                       seed: try args.seed(3, default: 598))
        return args.interpreter.adopt(data)
    }

    static let addition = Builtin("addition", "addition(p: 113, train: 0.3, seed: 598)",
                                  "plain a + b for a, b < p (labels up to 2p - 2)", parameters: ["p", "train", "seed"],
                                  quadratic: (0, "p")) { args in
        let data = try Dataset.addition(p: args.int(0, "p", default: 113), trainFraction: args.number(1, "train", default: 0.3),
                                        seed: try args.seed(2, default: 598))
        return args.interpreter.adopt(data)
    }

    static let group = Builtin("group", "group(n: 4, train: 0.5, seed: 0, kind: \"S\")",
                               "composition a ∘ b in a finite group: kind \"S\" the symmetric group S_n (n ≤ 5), \"C\" the cyclic C_n, \"D\" the dihedral D_n (order 2n)",
                               parameters: ["n", "train", "seed", "kind"]) { args in
        let n = try args.int(0, "n", default: 4)
        let fraction = try args.number(1, "train", default: 0.5)
        let seed = try args.seed(2, default: 0)
        let kind = try args.string(3, "kind", default: "S")
        let data: Dataset
        switch kind {
        case "S": data = try Dataset.symmetricGroup(n: n, trainFraction: fraction, seed: seed)
        case "C": data = try Dataset.cyclicGroup(n: n, trainFraction: fraction, seed: seed)
        case "D": data = try Dataset.dihedralGroup(n: n, trainFraction: fraction, seed: seed)
        default:
            throw args.error("unknown group kind '\(kind)' (one of S (symmetric), C (cyclic), D (dihedral))")
        }
        return args.interpreter.adopt(data)
    }
}

extension Interpreter {
    /// A new dataset: counted, and remembered as the one made last, but not
    /// made current (only `use`, `train` and `load` change what is current).
    func adopt(_ data: Dataset) -> Value {
        let object = DatasetObject(data)
        session.lastMadeData = object
        session.madeDatasets += 1
        return .object(object)
    }
}
