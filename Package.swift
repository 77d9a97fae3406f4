// swift-tools-version:6.0
import PackageDescription

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
            swiftSettings: [.swiftLanguageMode(.v5)]
        ),
        .target(
            name: "NeuroModels",
            dependencies: ["NeuroEngine"],
            swiftSettings: [.swiftLanguageMode(.v5)]
        ),
        // Tokenizers (WordPiece, byte-level BPE) read from Hugging Face folders.
        .target(
            name: "NeuroText",
            dependencies: ["NeuroEngine"],
            swiftSettings: [.swiftLanguageMode(.v5)]
        ),
        .target(
            name: "NeuroAnalysis",
            dependencies: ["NeuroEngine", "NeuroModels"],
            swiftSettings: [.swiftLanguageMode(.v5)]
        ),
        .target(
            name: "NeuroPlots",
            dependencies: ["NeuroEngine"],
            path: "Sources/NeuroPlots",
            swiftSettings: [.swiftLanguageMode(.v5)]
        ),
        .target(
            name: "NeuroLanguage",
            dependencies: ["NeuroEngine"],
            swiftSettings: [.swiftLanguageMode(.v5)]
        ),
        // The workbench's vocabulary for the language: objects, domain built-ins, the session, stdlib/.
        .target(
            name: "NeuroLab",
            dependencies: ["NeuroText", "NeuroEngine", "NeuroModels", "NeuroAnalysis", "NeuroPlots", "NeuroLanguage"],
            swiftSettings: [.swiftLanguageMode(.v5)]
        ),
        .executableTarget(
            name: "neuromap",
            dependencies: [
                "NeuroLanguage", "NeuroLab", "NeuroEngine", "NeuroModels", "CReadline",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: [.swiftLanguageMode(.v5)]
        ),
        // The fuzzers: scripts through the language, crafted files through every reader.
        .target(
            name: "NeuroFuzz",
            dependencies: ["NeuroEngine", "NeuroModels", "NeuroLanguage", "NeuroLab"],
            swiftSettings: [.swiftLanguageMode(.v5)]
        ),
        .executableTarget(
            name: "NeuroBench",
            dependencies: ["NeuroEngine", "NeuroModels", "NeuroText", "NeuroAnalysis", "NeuroLanguage", "NeuroLab", "NeuroFuzz", "CBLAS"],
            path: "Sources/NeuroBench",
            swiftSettings: [.swiftLanguageMode(.v5)]
        ),
        // Assertions shared by every test target (one assertClose for all).
        .target(
            name: "NeuroTestSupport",
            dependencies: ["NeuroEngine"],
            path: "Tests/NeuroTestSupport",
            swiftSettings: [.swiftLanguageMode(.v5)]
        ),
        .testTarget(
            name: "NeuroEngineTests",
            dependencies: ["NeuroTestSupport", "NeuroEngine"],
            resources: [.copy("Fixtures")],
            swiftSettings: [.swiftLanguageMode(.v5)]
        ),
        .testTarget(
            name: "NeuroLanguageTests",
            dependencies: ["NeuroTestSupport", "NeuroLanguage", "NeuroLab", "NeuroEngine", "NeuroModels", "NeuroFuzz"],
            resources: [.copy("Golden")],
            swiftSettings: [.swiftLanguageMode(.v5)]
        ),
        .testTarget(
            name: "NeuroLabTests",
            dependencies: ["NeuroTestSupport", "NeuroLab", "NeuroLanguage", "NeuroEngine", "NeuroModels", "NeuroAnalysis", "NeuroPlots"],
            resources: [.copy("Fixtures")],
            swiftSettings: [.swiftLanguageMode(.v5)]
        ),
        .testTarget(
            name: "NeuroAnalysisTests",
            dependencies: ["NeuroTestSupport", "NeuroAnalysis", "NeuroModels", "NeuroEngine"],
            resources: [.copy("Fixtures")],
            swiftSettings: [.swiftLanguageMode(.v5)]
        ),
        .testTarget(
            name: "NeuroPlotsTests",
            dependencies: ["NeuroPlots", "NeuroEngine"],
            resources: [.copy("Golden")],
            swiftSettings: [.swiftLanguageMode(.v5)]
        ),
        .testTarget(
            name: "NeuroFuzzTests",
            dependencies: ["NeuroFuzz", "NeuroLanguage", "NeuroEngine"],
            swiftSettings: [.swiftLanguageMode(.v5)]
        ),
        .testTarget(
            name: "NeuroTextTests",
            dependencies: ["NeuroTestSupport", "NeuroText", "NeuroEngine"],
            resources: [.copy("Fixtures")],
            swiftSettings: [.swiftLanguageMode(.v5)]
        ),
        .testTarget(
            name: "NeuroModelsTests",
            dependencies: ["NeuroTestSupport", "NeuroModels", "NeuroEngine"],
            resources: [.copy("Fixtures")],
            swiftSettings: [.swiftLanguageMode(.v5)]
        ),
    ]
)
