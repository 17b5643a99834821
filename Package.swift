// swift-tools-version:6.0
// clipwb: CLIP model conversion and evaluation workbench.
// Data flows one way: weights → model → embeddings → index → search → HTTP.
import PackageDescription

let hdf5Include: [CSetting] = [.unsafeFlags(["-I/usr/include/hdf5/serial"])]
let v5: [SwiftSetting] = [.swiftLanguageMode(.v5)]
// The compute stages are optimized in debug builds too: `make test` runs the debug binary over real models,
// images and indexes, and unoptimized Swift loops there cost minutes (debug info and -enable-testing stay).
let fastDebug: [SwiftSetting] = [.unsafeFlags(["-O"], .when(configuration: .debug))]
let fastDebugC: [CSetting] = [.unsafeFlags(["-O2"], .when(configuration: .debug))]

let package = Package(
    name: "clipwb",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "clipwb", targets: ["clipwb"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
    ],
    targets: [
        // C behind thin shims.
        .target(name: "CHDF5", cSettings: hdf5Include, linkerSettings: [.linkedLibrary("hdf5_serial")]),
        .target(name: "CJPEG", linkerSettings: [.linkedLibrary("jpeg")]),
        .target(name: "CPNG", linkerSettings: [.linkedLibrary("png16")]),
        .target(name: "CGIF", linkerSettings: [.linkedLibrary("gif")]),
        .target(name: "CWEBP", linkerSettings: [.linkedLibrary("webpdemux"), .linkedLibrary("webp")]),
        .target(name: "CTIFF", linkerSettings: [.linkedLibrary("tiff")]),
        .target(name: "CBLAS", linkerSettings: [.linkedLibrary("blas"), .linkedLibrary("dl")]),
        .target(name: "CKernels", cSettings: fastDebugC),
        // CHNSW: hnswlib (Debian's libhnswlib-dev, header-only C++) behind a C API. AVX2 (hnswlib's AVX kernels,
        // chosen at run time as Python hnswlib does) and no FMA contraction: distances are the kernels' own
        // multiply-then-add, the same bits as a Python hnswlib built the same way (docs/index.md).
        .target(name: "CHNSW", cxxSettings: [.unsafeFlags(["-O3", "-mavx2", "-mfma", "-ffp-contract=off"])]),

        // The pipeline, upstream first.
        .target(name: "ClipCore", swiftSettings: v5 + fastDebug),
        .target(name: "ClipWeights", dependencies: ["ClipCore", "CHDF5", "CKernels"], swiftSettings: v5 + fastDebug),
        .target(name: "ClipTokenizer", dependencies: ["ClipCore"],
                resources: [.copy("Resources/bpe_simple_vocab_48894.txt"), .copy("Resources/LICENSE-bpe-vocab.md")], swiftSettings: v5 + fastDebug),
        .target(name: "ClipImage", dependencies: ["ClipCore", "CJPEG", "CPNG", "CGIF", "CWEBP", "CTIFF"], swiftSettings: v5 + fastDebug),
        // ClipModel: Haswell+ (AVX2, FMA) so its SIMD16 row kernels are 2 instructions per op, not 4 SSE ones.
        .target(name: "ClipModel", dependencies: ["ClipCore", "ClipWeights", "CBLAS", "CKernels"],
                swiftSettings: v5 + fastDebug + [.unsafeFlags(["-target-cpu", "haswell"])]),
        // AnnoyIndex: FMA (Haswell+) so SIMD16 fused multiply-adds are instructions, not fmaf calls.
        .target(name: "AnnoyIndex", dependencies: ["ClipCore"],
                swiftSettings: v5 + fastDebug + [.unsafeFlags(["-target-cpu", "haswell"])]),
        .target(name: "HNSWIndex", dependencies: ["ClipCore", "CHNSW"], swiftSettings: v5),
        .target(name: "ClipEval", dependencies: ["ClipCore", "ClipWeights", "AnnoyIndex", "HNSWIndex", "CBLAS"], swiftSettings: v5 + fastDebug),
        // The embedding stage: weights → model + its tokenizer and preprocessing → embeddings (CLI and server).
        .target(name: "ClipEmbed", dependencies: ["ClipCore", "ClipWeights", "ClipTokenizer", "ClipImage", "ClipModel"], swiftSettings: v5),
        // The parity stage: reference files, the stage-by-stage verification, its tolerances and verdict.
        .target(name: "ClipParity", dependencies: ["ClipCore", "ClipWeights", "ClipTokenizer", "ClipImage", "ClipModel", "ClipEmbed"], swiftSettings: v5),
        .target(name: "ClipSearch", dependencies: [
            "ClipCore", "ClipWeights", "ClipTokenizer", "ClipImage", "ClipModel", "ClipEmbed", "AnnoyIndex", "ClipEval",
            .product(name: "GRDB", package: "GRDB.swift"),
        ], swiftSettings: v5),
        .target(name: "ClipServer", dependencies: [
            "ClipCore", "ClipSearch",
            .product(name: "Hummingbird", package: "hummingbird"),
        ], swiftSettings: v5),
        .executableTarget(name: "clipwb", dependencies: [
            "ClipCore", "ClipWeights", "ClipTokenizer", "ClipImage", "ClipModel", "ClipEmbed", "ClipParity", "AnnoyIndex", "HNSWIndex",
            "ClipEval", "ClipSearch", "ClipServer", "CBLAS", "CKernels",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ], swiftSettings: v5),

        .testTarget(name: "ClipCoreTests", dependencies: ["ClipCore"], swiftSettings: v5),
        .testTarget(name: "ClipWeightsTests", dependencies: ["ClipWeights"], swiftSettings: v5),
        .testTarget(name: "ClipTokenizerTests", dependencies: ["ClipTokenizer"],
                    resources: [.copy("Fixtures")], swiftSettings: v5),
        .testTarget(name: "ClipImageTests", dependencies: ["ClipImage"],
                    resources: [.copy("Fixtures")], swiftSettings: v5),
        .testTarget(name: "ClipModelTests", dependencies: ["ClipModel", "ClipWeights", "CKernels"], swiftSettings: v5),
        .testTarget(name: "ClipParityTests", dependencies: ["ClipParity", "ClipModel", "ClipWeights", "ClipEmbed"], swiftSettings: v5),
        .testTarget(name: "AnnoyIndexTests", dependencies: ["AnnoyIndex"], swiftSettings: v5),
        .testTarget(name: "HNSWIndexTests", dependencies: ["HNSWIndex"], swiftSettings: v5),
        .testTarget(name: "ClipEvalTests", dependencies: ["ClipEval"], swiftSettings: v5),
        .testTarget(name: "ClipServerTests", dependencies: [
            "ClipServer", "ClipSearch",
            .product(name: "HummingbirdTesting", package: "hummingbird"),
        ], swiftSettings: v5),
    ],
    cxxLanguageStandard: .cxx17
)
