// swift-tools-version:6.0
import PackageDescription
import Foundation

// Swift code for the vector units of the machine that builds it. Where the CPU
// has AVX2 and FMA (the "haswell" level: Intel's server and desktop CPUs since
// 2013, AMD's since Zen), the compiler may use 256-bit vectors for the engine's
// loops: GELU, softmax and LayerNorm run up to twice as fast; where it also has
// AVX-512 ("skylake-avx512": Intel since 2017, AMD since Zen 4), 32 vector
// registers instead of 16 and 512-bit vectors (GELU a further 15% faster).
// Their results are the same: Swift never fuses a multiply and an add on its
// own, and the order of every sum is the code's. Only the kernels of attention
// over long sequences and of exact GELU ask for fused multiply-adds
// (NEUROMAP_FMA, `multiplyAdd` in the engine), so their last bits differ from
// a baseline build's.
// Elsewhere, or with NEUROMAP_PORTABLE=1 (a binary for another machine), the
// baseline instruction set.
let vectorSettings: [SwiftSetting] = {
    #if arch(x86_64) && os(Linux)
    if ProcessInfo.processInfo.environment["NEUROMAP_PORTABLE"] == "1" { return [] }
    guard let cpuinfo = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8),
          let flagsLine = cpuinfo.split(separator: "\n").first(where: { $0.hasPrefix("flags") })
    else { return [] }
    let flags = Set(flagsLine.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init))
    let haswell: Set<String> = ["avx", "avx2", "fma", "bmi1", "bmi2", "abm", "movbe", "f16c", "popcnt", "sse4_2"]
    guard haswell.isSubset(of: flags) else { return [] }
    let avx512: Set<String> = ["avx512f", "avx512bw", "avx512cd", "avx512dq", "avx512vl"]
    return [.unsafeFlags(["-target-cpu", avx512.isSubset(of: flags) ? "skylake-avx512" : "haswell"]), .define("NEUROMAP_FMA")]
    #else
    return []
    #endif
}()

/// Every Swift target's settings: Swift 5 language mode, and the vector level above.
let swiftSettings: [SwiftSetting] = [.swiftLanguageMode(.v5)] + vectorSettings

// Layers, each depending only on those above it (docs/ARCHITECTURE.md):
//   CBLAS, CReadline  →  NeuroEngine  →  NeuroModels → NeuroAnalysis
//                                     →  NeuroText        (tokenizers)
//                                     →  NeuroPlots       (plain numbers in; no language, no analysis types)
//                                     →  NeuroLanguage    (the language alone: engine only)
//   models, analysis, plots, language →  NeuroLab         (the workbench's vocabulary)  →  neuromap
let package = Package(
    name: "NeuroMap",
    products: [
        .library(name: "NeuroEngine", targets: ["NeuroEngine"]),
        .library(name: "NeuroModels", targets: ["NeuroModels"]),
        .library(name: "NeuroText", targets: ["NeuroText"]),
        .library(name: "NeuroAnalysis", targets: ["NeuroAnalysis"]),
        .library(name: "NeuroLanguage", targets: ["NeuroLanguage"]),
        .library(name: "NeuroLab", targets: ["NeuroLab"]),
        .executable(name: "neuromap", targets: ["neuromap"]),
        .executable(name: "neuromap-bench", targets: ["NeuroBench"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    ],
    targets: [
        .systemLibrary(
            name: "CBLAS",
            path: "Sources/CBLAS",
            pkgConfig: "openblas",
            providers: [.apt(["libopenblas-dev"])]
        ),
        .systemLibrary(
            name: "CReadline",
            path: "Sources/CReadline",
            providers: [.apt(["libreadline-dev"])]
        ),
        .target(
            name: "NeuroEngine",
            dependencies: ["CBLAS"],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "NeuroModels",
            dependencies: ["NeuroEngine"],
            swiftSettings: swiftSettings
        ),
        // Tokenizers (WordPiece, byte-level BPE) read from Hugging Face folders.
        .target(
            name: "NeuroText",
            dependencies: ["NeuroEngine"],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "NeuroAnalysis",
            dependencies: ["NeuroEngine", "NeuroModels"],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "NeuroPlots",
            dependencies: ["NeuroEngine"],
            path: "Sources/NeuroPlots",
            swiftSettings: swiftSettings
        ),
        .target(
            name: "NeuroLanguage",
            dependencies: ["NeuroEngine"],
            swiftSettings: swiftSettings
        ),
        // The workbench's vocabulary for the language: objects, domain built-ins, the session, stdlib/.
        .target(
            name: "NeuroLab",
            dependencies: ["NeuroText", "NeuroEngine", "NeuroModels", "NeuroAnalysis", "NeuroPlots", "NeuroLanguage"],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "neuromap",
            dependencies: [
                "NeuroLanguage", "NeuroLab", "NeuroEngine", "NeuroModels", "CReadline",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: swiftSettings
        ),
        // The fuzzers: scripts through the language, crafted files through every reader.
        .target(
            name: "NeuroFuzz",
            dependencies: ["NeuroEngine", "NeuroModels", "NeuroLanguage", "NeuroLab"],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "NeuroBench",
            dependencies: ["NeuroEngine", "NeuroModels", "NeuroText", "NeuroAnalysis", "NeuroLanguage", "NeuroLab", "NeuroFuzz", "CBLAS"],
            path: "Sources/NeuroBench",
            swiftSettings: swiftSettings
        ),
        // Assertions shared by every test target (one assertClose for all).
        .target(
            name: "NeuroTestSupport",
            dependencies: ["NeuroEngine"],
            path: "Tests/NeuroTestSupport",
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "NeuroEngineTests",
            dependencies: ["NeuroTestSupport", "NeuroEngine"],
            resources: [.copy("Fixtures")],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "NeuroLanguageTests",
            dependencies: ["NeuroTestSupport", "NeuroLanguage", "NeuroLab", "NeuroEngine", "NeuroModels", "NeuroFuzz"],
            resources: [.copy("Golden")],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "NeuroLabTests",
            dependencies: ["NeuroTestSupport", "NeuroLab", "NeuroLanguage", "NeuroEngine", "NeuroModels", "NeuroAnalysis", "NeuroPlots"],
            resources: [.copy("Fixtures")],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "NeuroAnalysisTests",
            dependencies: ["NeuroTestSupport", "NeuroAnalysis", "NeuroModels", "NeuroEngine"],
            resources: [.copy("Fixtures")],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "NeuroPlotsTests",
            dependencies: ["NeuroPlots", "NeuroEngine"],
            resources: [.copy("Golden")],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "NeuroFuzzTests",
            dependencies: ["NeuroFuzz", "NeuroLanguage", "NeuroEngine"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "NeuroTextTests",
            dependencies: ["NeuroTestSupport", "NeuroText", "NeuroEngine"],
            resources: [.copy("Fixtures")],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "NeuroModelsTests",
            dependencies: ["NeuroTestSupport", "NeuroModels", "NeuroEngine"],
            resources: [.copy("Fixtures")],
            swiftSettings: swiftSettings
        ),
    ]
)
