// swift-tools-version:6.1
import PackageDescription

// No module is built with -Ounchecked: it removed bounds and overflow checks from whole
// modules, file parsers and size arithmetic included, so input that debug builds reject
// (a damaged file, `dense 9223372036854775807`) could read out of bounds or wrap in
// release. Hot loops run over unsafe buffer pointers (no bounds checks) and use wrapping
// arithmetic (&+, &*) where a check would cost; `quantlab bench --quick` measured user CPU
// 17.8–18.0 s with -O against 16.6 s with -Ounchecked on a busy machine (see the commit).

let package = Package(
    name: "quantlab",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "quantlab", targets: ["quantlab"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
        .package(url: "https://github.com/apple/swift-protobuf", from: "1.39.0"),
    ],
    targets: [
        // MARK: - System libraries (Debian: libopenblas-dev, libedit-dev, zlib1g-dev, libdnnl-dev, libzmq3-dev, libcairo2-dev)
        .systemLibrary(name: "COpenBLAS", pkgConfig: "openblas", providers: [.apt(["libopenblas-dev"])]),
        .systemLibrary(name: "CEditLine", pkgConfig: "libedit", providers: [.apt(["libedit-dev"])]),
        .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
        // Debian's libdnnl-dev ships no pkg-config file: the module map links dnnl and gomp.
        .systemLibrary(name: "CDNNL", providers: [.apt(["libdnnl-dev"])]),
        .systemLibrary(name: "CZMQ", pkgConfig: "libzmq", providers: [.apt(["libzmq3-dev"])]),
        .systemLibrary(name: "CCairo", pkgConfig: "cairo", providers: [.apt(["libcairo2-dev"])]),  // PNG and PDF plots

        // MARK: - C kernels (intrinsics per function, chosen at run time by cpuid)
        .target(name: "CBitKernels"),   // XNOR-popcount GEMM: AVX-512 VPOPCNTDQ, AVX2, popcnt, portable
        .target(name: "CTrainKernels"), // AVX-512 forms of the elementwise training kernels (ReLU, masks, 2×2 max pool, g8 rounding)

        // MARK: - Modules, bottom to top
        .target(name: "Random", dependencies: [], swiftSettings: [.swiftLanguageMode(.v6)]),    // the one seeded RNG (SplitMix64), below Tensors and Analysis
        .target(name: "Formatting", dependencies: [], swiftSettings: [.swiftLanguageMode(.v6)]),  // the one number/unit formatter of every table and plot
        .target(name: "Tensors", dependencies: ["Random", "COpenBLAS", "CDNNL", "CBitKernels", "CTrainKernels"], swiftSettings: [.swiftLanguageMode(.v6)]),
        .target(name: "Quantization", dependencies: ["Tensors", "Formatting"], swiftSettings: [.swiftLanguageMode(.v6)]),
        .target(name: "Networks", dependencies: ["Tensors", "Quantization", "CBitKernels", "Formatting"], swiftSettings: [.swiftLanguageMode(.v6)]),
        .target(name: "QONNX", dependencies: ["Networks", "Quantization", .product(name: "SwiftProtobuf", package: "swift-protobuf")],
                swiftSettings: [.swiftLanguageMode(.v6)]),    // QONNX export; onnx.pb.swift is generated and committed
        .target(name: "Datasets", dependencies: ["Tensors", "CZlib", "Formatting"], swiftSettings: [.swiftLanguageMode(.v6)]),
        .target(name: "Store", dependencies: ["Formatting", .product(name: "GRDB", package: "GRDB.swift")], swiftSettings: [.swiftLanguageMode(.v6)]),
        .target(name: "Search", dependencies: ["Random"], swiftSettings: [.swiftLanguageMode(.v6)]),  // Random: the evolution's seeded draws
        .target(name: "Trials", dependencies: ["Tensors", "Quantization", "Networks", "Datasets", "Search"], swiftSettings: [.swiftLanguageMode(.v6)]),
        .target(name: "Analysis", dependencies: ["Random", "Formatting", "CCairo"], swiftSettings: [.swiftLanguageMode(.v6)]),
        .target(name: "Cluster", dependencies: ["Tensors", "Quantization", "Networks", "Datasets", "Trials"], swiftSettings: [.swiftLanguageMode(.v6)]),  // Slurm plans, workers, result files
        .target(name: "Notebook", dependencies: ["Formatting", "Tensors", "Quantization", "Networks", "QONNX", "Datasets", "Store", "Search", "Trials", "Analysis", "Cluster"], swiftSettings: [.swiftLanguageMode(.v6)]),
        .target(name: "Kernel", dependencies: ["Notebook", "Formatting", "CZMQ", .product(name: "Crypto", package: "swift-crypto")], swiftSettings: [.swiftLanguageMode(.v6)]),
        .executableTarget(name: "quantlab", dependencies: [
            "Notebook", "CEditLine", "Kernel", "Cluster",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ], swiftSettings: [.swiftLanguageMode(.v6)]),


        // MARK: - Tests
        .testTarget(name: "RandomTests", dependencies: ["Random"]),
        .testTarget(name: "FormattingTests", dependencies: ["Formatting"]),
        .testTarget(name: "TensorsTests", dependencies: ["Tensors"]),
        .testTarget(name: "QuantizationTests", dependencies: ["Quantization", "Tensors"]),
        .testTarget(name: "NetworksTests", dependencies: ["Networks", "Quantization", "Tensors"]),
        .testTarget(name: "QONNXTests", dependencies: ["QONNX", "Networks", "Quantization", "Tensors"]),
        .testTarget(name: "DatasetsTests", dependencies: ["Datasets", "Tensors"], exclude: ["Fixtures"]),  // Fixtures: NumPy-written files, read by path
        .testTarget(name: "StoreTests", dependencies: ["Store"]),
        .testTarget(name: "SearchTests", dependencies: ["Search"]),
        .testTarget(name: "TrialsTests", dependencies: ["Trials", "Networks", "Datasets", "Tensors"]),
        .testTarget(name: "AnalysisTests", dependencies: ["Analysis", "Random", "Formatting"]),
        .testTarget(name: "ClusterTests", dependencies: ["Cluster", "Trials", "Datasets", "Networks", "Tensors"]),
        .testTarget(name: "NotebookTests", dependencies: ["Notebook", "Store"], exclude: ["Golden"]),  // Golden: transcripts read by path
        .testTarget(name: "KernelTests", dependencies: ["Kernel", "Notebook", "CZMQ"]),
        .testTarget(name: "ShellTests", dependencies: ["quantlab"]),  // builds the binary the transcript tests drive
    ],
    swiftLanguageModes: [.v5]
)
