// swift-tools-version:6.1
import PackageDescription

// Hot loops (im2col, quantizers, pooling) are written over unsafe buffers; -Ounchecked
// removes the remaining overflow checks in release builds (measured ~1.3x on the
// elementwise passes). Debug builds keep every check.
let fast: [SwiftSetting] = [.unsafeFlags(["-Ounchecked"], .when(configuration: .release))]

let package = Package(
    name: "quantlab",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "quantlab", targets: ["quantlab"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
    ],
    targets: [
        // MARK: - System libraries (Debian: libopenblas-dev, libedit-dev, zlib1g-dev)
        .systemLibrary(name: "COpenBLAS", pkgConfig: "openblas", providers: [.apt(["libopenblas-dev"])]),
        .systemLibrary(name: "CEditLine", pkgConfig: "libedit", providers: [.apt(["libedit-dev"])]),
        .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),

        // MARK: - Modules, bottom to top
        .target(name: "Random", dependencies: []),    // the one seeded RNG (SplitMix64), below Tensors and Analysis
        .target(name: "Tensors", dependencies: ["Random", "COpenBLAS"], swiftSettings: fast),
        .target(name: "Quantization", dependencies: ["Tensors"], swiftSettings: fast),
        .target(name: "Networks", dependencies: ["Tensors", "Quantization"], swiftSettings: fast),
        .target(name: "Datasets", dependencies: ["Tensors", "CZlib"], swiftSettings: fast),
        .target(name: "Store", dependencies: [.product(name: "GRDB", package: "GRDB.swift")]),
        .target(name: "Search", dependencies: ["Random"]),  // Random: the evolution's seeded draws
        .target(name: "Trials", dependencies: ["Tensors", "Quantization", "Networks", "Datasets", "Search"], swiftSettings: fast),
        .target(name: "Analysis", dependencies: ["Random"]),
        .target(name: "Notebook", dependencies: ["Tensors", "Quantization", "Networks", "Datasets", "Store", "Search", "Trials", "Analysis"]),
        .executableTarget(name: "quantlab", dependencies: [
            "Notebook", "CEditLine",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),


        // MARK: - Tests
        .testTarget(name: "RandomTests", dependencies: ["Random"]),
        .testTarget(name: "TensorsTests", dependencies: ["Tensors"]),
        .testTarget(name: "QuantizationTests", dependencies: ["Quantization", "Tensors"]),
        .testTarget(name: "NetworksTests", dependencies: ["Networks", "Quantization", "Tensors"]),
        .testTarget(name: "DatasetsTests", dependencies: ["Datasets", "Tensors"]),
        .testTarget(name: "StoreTests", dependencies: ["Store"]),
        .testTarget(name: "SearchTests", dependencies: ["Search"]),
        .testTarget(name: "TrialsTests", dependencies: ["Trials", "Networks", "Datasets", "Tensors"]),
        .testTarget(name: "AnalysisTests", dependencies: ["Analysis", "Random"]),
        .testTarget(name: "NotebookTests", dependencies: ["Notebook", "Store"]),
        .testTarget(name: "ShellTests", dependencies: ["quantlab"]),  // builds the binary the transcript tests drive
    ],
    swiftLanguageModes: [.v5]
)
