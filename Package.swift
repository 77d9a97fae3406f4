// swift-tools-version:6.0
import PackageDescription

// Layers, each depending only on those above it:
//   CBLAS, CReadline  →  NeuroEngine  →  (models, analysis, plots, language)  →  neuromap
let package = Package(
    name: "NeuroMap",
    products: [
        .library(name: "NeuroEngine", targets: ["NeuroEngine"]),
        .library(name: "NeuroModels", targets: ["NeuroModels"]),
        .executable(name: "neuromap-bench", targets: ["NeuroBench"]),
    ],
    dependencies: [],
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
        .executableTarget(
            name: "NeuroBench",
            dependencies: ["NeuroEngine", "NeuroModels", "CBLAS"],
            path: "Sources/NeuroBench",
            swiftSettings: [.swiftLanguageMode(.v5)]
        ),
        .testTarget(
            name: "NeuroEngineTests",
            dependencies: ["NeuroEngine", "CReadline"],
            resources: [.copy("Fixtures")],
            swiftSettings: [.swiftLanguageMode(.v5)]
        ),
        .testTarget(
            name: "NeuroModelsTests",
            dependencies: ["NeuroModels", "NeuroEngine"],
            resources: [.copy("Fixtures")],
            swiftSettings: [.swiftLanguageMode(.v5)]
        ),
    ]
)
