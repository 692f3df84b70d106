// swift-tools-version: 6.1
import PackageDescription

let package = Package(
    name: "ChannelLab",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "ChannelCore", targets: ["ChannelCore"]),
        .library(name: "ChannelLab", targets: ["ChannelLab"]),
        .executable(name: "chanlab", targets: ["chanlab"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-collections", from: "1.6.0"),
        .package(url: "https://github.com/jpsim/Yams.git", from: "6.2.2"),
        .package(url: "https://github.com/x-sheep/swift-property-based.git", from: "2.0.1"),
        .package(url: "https://github.com/groue/GRDB.swift.git", from: "7.10.0"),
    ],
    targets: [
        // libsodium as a system library; nothing else links it directly.
        .systemLibrary(
            name: "CSodium",
            pkgConfig: "libsodium",
            providers: [.apt(["libsodium-dev"])]
        ),
        // The system under test: pure and deterministic (no clock, no I/O, no randomness, no threads).
        .target(name: "ChannelCore", dependencies: ["CSodium"]),
        // The lab: seeded generators, demo, benchmarks; talks to ChannelCore through its public API only.
        .target(
            name: "ChannelLab",
            dependencies: [
                "ChannelCore",
                .product(name: "Collections", package: "swift-collections"),
                .product(name: "Yams", package: "Yams"),
                .product(name: "GRDB", package: "GRDB.swift"),
            ]
        ),
        // The thin command-line front end.
        .executableTarget(
            name: "chanlab",
            dependencies: [
                "ChannelLab",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        // libFuzzer harness for the scenario loader (scripts/libfuzzer loader builds it with
        // -sanitize=fuzzer -DFUZZING; a plain build only prints how to run it).
        .executableTarget(name: "fuzz-scenario-loader", dependencies: ["ChannelLab"]),
        .testTarget(
            name: "ChannelCoreTests",
            dependencies: [
                "ChannelCore", "ChannelLab",
                .product(name: "PropertyBased", package: "swift-property-based"),
            ],
            resources: []
        ),
        .testTarget(
            name: "ChannelLabTests",
            dependencies: ["ChannelLab", "ChannelCore", .product(name: "GRDB", package: "GRDB.swift")]
        ),
    ],
    swiftLanguageModes: [.v6]
)
