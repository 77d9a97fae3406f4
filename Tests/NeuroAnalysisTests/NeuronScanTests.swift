import XCTest
import NeuroEngine
@testable import NeuroAnalysis

/// Matching category words against a text's words, and a scan's numbers
/// against a computation written out by hand.
final class NeuronScanTests: XCTestCase {
    /// A text of eight words; "gi ##raf ##fe" is one word of three tokens,
    /// "new york" two words of one token each.
    static let words: [ScanText.Word] = [
        .init(key: "the", tokens: ["the"]), .init(key: "giraffe", tokens: ["gi", "##raf", "##fe"]),
        .init(key: "saw", tokens: ["saw"]), .init(key: "new", tokens: ["new"]), .init(key: "york", tokens: ["york"]),
        .init(key: "and", tokens: ["and"]), .init(key: "a", tokens: ["a"]), .init(key: "dog", tokens: ["dog"]),
    ]

    static func text(_ categories: [(name: String, entries: [String])]) -> ScanText {
        ScanText(words: words, categories: categories) { $0.lowercased().split(separator: " ").map(String.init) }
    }

    func testWordsOfSeveralTokensAndEntriesOfSeveralWordsAreOneOccurrence() {
        let text = Self.text([("animal", ["Giraffe", "dog", "cat"]), ("place", ["New York", "york"])])
        XCTAssertEqual(text.tokens.count, 10)
        XCTAssertEqual(text.occurrences, [2, 1])
        // "york" alone never counts: where "new york" matches, the longer entry wins.
        XCTAssertEqual(text.missing, [["cat"], ["york"]])
        let giraffe = text.units.first { $0.text == "giraffe" }
        XCTAssertEqual(giraffe?.tokens, 1..<4)
        XCTAssertEqual(giraffe?.categories, [0])
        let city = text.units.first { $0.text == "new york" }
        XCTAssertEqual(city?.tokens, 5..<7)
        XCTAssertEqual(city?.categories, [1])
        // Every token in exactly one unit.
        XCTAssertEqual(text.units.flatMap { Array($0.tokens) }, Array(0..<10))
    }

    func testTheSameWordInTwoCategoriesCountsForBoth() {
        let text = Self.text([("animal", ["dog"]), ("pet", ["dog", "giraffe"])])
        XCTAssertEqual(text.occurrences, [1, 2])
        XCTAssertEqual(text.units.first { $0.text == "dog" }?.categories, [0, 1])
    }

    /// Activations [10 tokens, 2 neurons] made up; the means, selectivities
    /// and top tokens computed by hand from them.
    func testNumbersEqualAComputationByHand() throws {
        let text = Self.text([("animal", ["giraffe", "dog"]), ("place", ["new york"])])
        let a: [Float] = [0.1, 1, 0.9, 2, 0.5, 3, 0.7, 4, 0.0, 5, -0.2, 6, 0.4, 7, 0.3, 8, 0.6, 9, 1.5, 10]
        let scan = try NeuronScan(text: text, activations: a, neurons: [.init(layer: 0, index: 0), .init(layer: 1, index: 3)],
                                  threshold: 0.5, topK: 2, permutations: 0)
        let column = { (j: Int) in (0..<10).map { Double(a[$0 * 2 + j]) } }
        for j in 0..<2 {
            let x = column(j)
            let giraffe = (x[1] + x[2] + x[3]) / 3, dog = x[9], york = (x[5] + x[6]) / 2
            let mean = x.reduce(0, +) / 10
            let sd = (x.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / 10).squareRoot()
            let animalRest = (x.reduce(0, +) - x[1] - x[2] - x[3] - x[9]) / 6
            let placeRest = (x.reduce(0, +) - x[5] - x[6]) / 8
            XCTAssertEqual(scan.mean(neuron: j, category: 0), (giraffe + dog) / 2, accuracy: 1e-6)
            XCTAssertEqual(scan.mean(neuron: j, category: 1), york, accuracy: 1e-6)
            XCTAssertEqual(scan.selectivity(neuron: j, category: 0), ((giraffe + dog) / 2 - animalRest) / sd, accuracy: 1e-6)
            XCTAssertEqual(scan.selectivity(neuron: j, category: 1), (york - placeRest) / sd, accuracy: 1e-6)
        }
        // Neuron 0: the top tokens are the distinct strings with the largest activations.
        XCTAssertEqual(scan.topTokens[0].map(\.token), ["dog", "gi"])
        XCTAssertEqual(scan.topTokens[0][0].activation, 1.5, accuracy: 1e-6)
        XCTAssertEqual(scan.passing(0), [0, 1])   // animal: (0.5+0.7+0+1.5)/2 ≈ 1.35 and big values for neuron 1
        XCTAssertEqual(scan.pivot(), [[1, 0], [1, 1]])
        XCTAssertEqual(scan.multiCategory().map(\.neuron), [1])
    }

    func testConstantNeuronHasNoSelectivityAndNoCorrelation() throws {
        let text = Self.text([("animal", ["giraffe", "dog"]), ("place", ["new york"])])
        let a = [Float](repeating: 0.25, count: 10 * 2)
        let scan = try NeuronScan(text: text, activations: a, neurons: [.init(layer: 0, index: 0), .init(layer: 0, index: 1)],
                                  threshold: 0.2, topK: 1, permutations: 10)
        XCTAssertTrue(scan.selectivity(neuron: 0, category: 0).isNaN)
        XCTAssertTrue(scan.top(0, by: .selectivity, count: 3).isEmpty)
        XCTAssertEqual(scan.top(0, by: .mean, count: 3), [0, 1])
        XCTAssertTrue(scan.correlation()[0][1].isNaN)
        // Every permutation passes both neurons: by chance equals what is seen, p = 1.
        XCTAssertEqual(scan.chance[0], NeuronScan.Chance(passing: 2, byChance: 2, p: 1))
    }

    /// A neuron that fires only on one category's words passes for it far
    /// more often than shuffled labels do; the count by chance is the
    /// average over permutations, the same for the same seed.
    func testChanceCountsFromShuffledLabels() throws {
        var words: [ScanText.Word] = []
        for i in 0..<200 { words.append(.init(key: i % 10 == 0 ? "dog" : "w\(i)", tokens: ["t\(i)"])) }
        let text = ScanText(words: words, categories: [("animal", ["dog"])]) { [$0] }
        var a = [Float](repeating: 0, count: 200 * 3)
        for i in 0..<200 {
            a[i * 3] = i % 10 == 0 ? 1 : 0                    // selective
            a[i * 3 + 1] = Float(i % 7) / 7                   // unrelated
            a[i * 3 + 2] = 0.3                               // always over the threshold
        }
        let neurons = (0..<3).map { ScanNeuron(layer: 0, index: $0) }
        let scan = try NeuronScan(text: text, activations: a, neurons: neurons, threshold: 0.5, topK: 1, permutations: 200, seed: 7)
        XCTAssertEqual(scan.passing(0), [0])
        XCTAssertEqual(scan.chance[0].passing, 1)
        // Shuffled, neuron 0 averages 20 random words (≈ 2 dogs → 0.1) and never passes; neuron 1 averages ~0.43,
        // passing sometimes; neuron 2 never (0.3 < 0.5).
        XCTAssertLessThan(scan.chance[0].byChance, 0.6)
        XCTAssertGreaterThan(scan.chance[0].byChance, 0.05)
        XCTAssertGreaterThan(scan.selectivity(neuron: 0, category: 0), 2.9)
        let again = try NeuronScan(text: text, activations: a, neurons: neurons, threshold: 0.5, topK: 1, permutations: 200, seed: 7)
        XCTAssertEqual(again.chance, scan.chance)
    }

    func testErrorsNameWhatIsWrong() {
        let text = Self.text([("animal", ["dog"]), ("fruit", ["mango", "kiwi"])])
        let neurons = [ScanNeuron(layer: 0, index: 0)]
        XCTAssertThrowsError(try NeuronScan(text: text, activations: [Float](repeating: 0, count: 10), neurons: neurons,
                                            threshold: 0.2, topK: 1)) { error in
            XCTAssertTrue("\(error)".contains("no word of 'fruit' occurs"), "\(error)")
        }
        let fine = Self.text([("animal", ["dog"])])
        XCTAssertThrowsError(try NeuronScan(text: fine, activations: [Float](repeating: 0, count: 9), neurons: neurons,
                                            threshold: 0.2, topK: 1)) { error in
            XCTAssertTrue("\(error)".contains("not 10 tokens × 1 neurons"), "\(error)")
        }
    }
}
